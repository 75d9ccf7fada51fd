#!/usr/bin/env bash
# Debian's headless-capable Chromium for the dashboard's browser test (Playwright drives it through
# executable_path; Playwright's own browser downloads are never used).
#   chromium.sh ensure     install Debian's chromium package if /usr/bin/chromium is missing (root)
#   chromium.sh path       print the executable's path
set -euo pipefail
CHROMIUM=${ASIELKETEN_CHROMIUM:-/usr/bin/chromium}

die() { echo "chromium.sh: $*" >&2; exit 1; }

case "${1:-}" in
    ensure)
        if [[ -x "$CHROMIUM" ]]; then exit 0; fi
        [[ "$(id -u)" -eq 0 ]] || die "Chromium is missing and installing it needs root: apt-get install chromium"
        echo "chromium.sh: installing Debian's chromium package" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >&2 || die "apt-get update failed"
        apt-get install -y -q chromium >&2 || die "apt-get install chromium failed"
        [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM is not there"
        ;;
    path) echo "$CHROMIUM" ;;
    *) echo "usage: $0 ensure|path" >&2; exit 2 ;;
esac
