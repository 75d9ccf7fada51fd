#!/usr/bin/env bash
# Re-fetch the charting library the dashboard ships with (Chart.js, MIT) at the pinned version, from the
# npm registry with npm itself. `npm pack` only downloads the published tarball: no node_modules, no
# install scripts. The minified UMD build and its licence are committed, so the page works offline.
#   deploy/vendor/fetch-chartjs.sh           (or: make vendor-charts)
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=4.6.1
DEST=services/history/history/entrypoints/dashboard/vendor
work=$(mktemp -d -t asielketen-chartjs-XXXXXX)
trap 'rm -rf "$work"' EXIT

npm pack "chart.js@$VERSION" --pack-destination "$work" --silent >/dev/null
tar -xzf "$work/chart.js-$VERSION.tgz" -C "$work"
head -c 200 "$work/package/dist/chart.umd.min.js" | grep -q "Chart.js v$VERSION" \
    || { echo "the tarball does not hold Chart.js v$VERSION" >&2; exit 1; }
mkdir -p "$DEST"
cp "$work/package/dist/chart.umd.min.js" "$DEST/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$DEST/chart.js-LICENSE.md"
echo "Chart.js $VERSION → $DEST ($(wc -c < "$DEST/chart.umd.min.js") bytes)"
