"""Turn the Kubernetes JSON schemas shipped in the PyPI wheel `kubernetes-validate` into standalone
schemas that kubeconform can read from disk, with no network.

    python3 deploy/k8s-schemas.py WHEEL KUBERNETES_VERSION OUT_DIR

The wheel holds, per Kubernetes version, `v<version>-local-strict/<kind>-<group>-<version>.json` (the
same file names kubeconform expects), but every schema points into a shared `_definitions.json` through
`$ref: /api/_definitions.json#/$defs/...`, an absolute reference kubeconform cannot resolve. This copies
each kind's schema to OUT_DIR/v<version>-standalone-strict/ with the definitions it needs (transitively)
embedded as `definitions` and its references rewritten to `#/definitions/...` (kubeconform
compiles schemas as JSON Schema draft 4, which knows `definitions` but not `$defs`).
Strict means: unknown fields fail.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

# References from a kind's file into the shared file, and between definitions inside the shared file.
REF_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")


def _refs(node: Any, found: set[str]) -> Any:
    """A copy of `node` with its references rewritten, collecting the definition names they point to."""
    if isinstance(node, dict):
        copy: dict[str, Any] = {}
        for key, value in node.items():
            prefix = next((p for p in REF_PREFIXES if isinstance(value, str) and value.startswith(p)), None)
            if key == "$ref" and prefix is not None:
                name = value[len(prefix) :]
                found.add(name)
                copy[key] = "#/definitions/" + name
            elif key in ("$schema", "$id"):
                continue  # kubeconform compiles as draft 4; an $id would move the base of the references
            else:
                copy[key] = _refs(value, found)
        return copy
    if isinstance(node, list):
        return [_refs(item, found) for item in node]
    return node


def standalone(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    wanted: set[str] = set()
    result: dict[str, Any] = _refs(schema, wanted)
    embedded: dict[str, Any] = {}
    pending = list(wanted)
    while pending:
        name = pending.pop()
        if name in embedded:
            continue
        more: set[str] = set()
        embedded[name] = _refs(definitions[name], more)
        pending.extend(more - embedded.keys())
    result["definitions"] = embedded
    return result


def main(wheel: str, version: str, out_dir: str) -> int:
    source = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
    target = Path(out_dir) / f"v{version}-standalone-strict"
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.startswith(source) and n.endswith(".json")]
        if not names:
            print(f"k8s-schemas.py: {wheel} has no schemas for Kubernetes {version}", file=sys.stderr)
            return 1
        definitions = json.loads(archive.read(source + "_definitions.json"))["$defs"]
        count = 0
        for name in names:
            filename = name[len(source) :]
            if filename.startswith("_") or filename == "all.json":
                continue
            schema = json.loads(archive.read(name))
            (target / filename).write_text(json.dumps(standalone(schema, definitions)))
            count += 1
    print(f"k8s-schemas.py: wrote {count} standalone schemas to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
