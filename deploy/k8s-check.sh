#!/usr/bin/env bash
# Validate the Kubernetes manifests in deploy/k8s against the Kubernetes JSON schemas, offline; CI runs this.
#
# Non-obvious choices:
# - kubeconform is built from source through the Go module proxy (`go install`) and cached; no binary is
#   downloaded from anywhere else.
# - kubeconform normally downloads its schemas from GitHub, which CI cannot reach. The schemas come from the
#   PyPI wheel `kubernetes-validate` (it ships the official OpenAPI-derived JSON schemas per Kubernetes
#   version), fetched with pip; deploy/k8s-schemas.py makes them standalone for kubeconform. Both cached.
# - -strict: unknown fields fail (a typo in a field name is an error, not silently ignored).
# - Kustomization is not a Kubernetes API kind, so kubeconform skips it; the script checks instead that every
#   file it lists exists, and that every manifest except the examples is listed.
# - Usage: deploy/k8s-check.sh [DIR]   (DIR defaults to deploy/k8s; the tests pass a broken copy).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFESTS="${1:-$REPO_ROOT/deploy/k8s}"
KUBECONFORM_VERSION=v0.6.7
K8S_VERSION=1.33.0
SCHEMAS_PACKAGE=kubernetes-validate==1.37.0
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/asielketen"
BIN="$CACHE/bin"
SCHEMAS="$CACHE/k8s-schemas/$SCHEMAS_PACKAGE"

log() { printf 'k8s-check.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -d "$MANIFESTS" ]] || die "$MANIFESTS not found"
python="$REPO_ROOT/.venv/bin/python"; [[ -x "$python" ]] || python=python3

kubeconform="$BIN/kubeconform"
# A `go install` build reports its version as "development", so a stamp file records which one is cached.
if [[ ! -x "$kubeconform" ]] || [[ "$(cat "$BIN/kubeconform.version" 2>/dev/null)" != "$KUBECONFORM_VERSION" ]]; then
    command -v go >/dev/null 2>&1 || die "kubeconform is missing and building it needs Go"
    log "building kubeconform $KUBECONFORM_VERSION with go install"
    mkdir -p "$BIN"
    GOBIN="$BIN" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" \
        || die "go install kubeconform failed"
    echo "$KUBECONFORM_VERSION" > "$BIN/kubeconform.version"
fi

schema_dir="$SCHEMAS/v$K8S_VERSION-standalone-strict"
if [[ ! -f "$schema_dir/deployment-apps-v1.json" ]]; then
    log "fetching the Kubernetes $K8S_VERSION JSON schemas ($SCHEMAS_PACKAGE from PyPI)"
    download=$(mktemp -d)
    trap 'rm -rf "$download"' EXIT
    "$python" -m pip download --quiet --no-deps --dest "$download" "$SCHEMAS_PACKAGE" \
        || die "pip download $SCHEMAS_PACKAGE failed"
    rm -rf "$schema_dir"
    "$python" "$REPO_ROOT/deploy/k8s-schemas.py" "$download"/*.whl "$K8S_VERSION" "$SCHEMAS"
fi

# The kustomization lists every manifest, and lists only files that exist.
if [[ -f "$MANIFESTS/kustomization.yaml" ]]; then
    "$python" - "$MANIFESTS" <<'PY' || die "kustomization.yaml does not match the manifests"
import pathlib, sys, yaml
folder = pathlib.Path(sys.argv[1])
listed = set(yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"])
present = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
present = {name for name in present if ".example." not in name}
problems = [f"listed but missing: {n}" for n in sorted(listed - present)]
problems += [f"not listed: {n}" for n in sorted(present - listed)]
for problem in problems:
    print(f"k8s-check.sh: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
fi

log "validating $MANIFESTS with kubeconform $KUBECONFORM_VERSION against Kubernetes $K8S_VERSION schemas"
"$kubeconform" -strict -summary -skip Kustomization \
    -kubernetes-version "$K8S_VERSION" \
    -schema-location "$SCHEMAS/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "$MANIFESTS" || die "the manifests in $MANIFESTS are not valid"
log "the manifests are valid"
