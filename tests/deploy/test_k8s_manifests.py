"""deploy/k8s-check.sh really validates the Kubernetes manifests against the Kubernetes schemas: the
manifests in deploy/k8s pass, and a copy with a misspelt field, a wrong type, a resource missing from the
kustomization, or an unknown kind fails."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infrastructure import REPO

CHECK = REPO / "deploy" / "k8s-check.sh"
MANIFESTS = REPO / "deploy" / "k8s"

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="building kubeconform needs Go")


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK), str(folder)], capture_output=True, text=True, timeout=600)


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "k8s"
    shutil.copytree(MANIFESTS, folder)
    text = (folder / file).read_text()
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1))
    return folder


def test_the_manifests_are_valid() -> None:
    result = check(MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0" in result.stdout


@pytest.mark.parametrize(
    ("file", "old", "new", "complaint"),
    [
        (
            "history.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFileSystem: true",
            "additionalProperties 'readOnlyRootFileSystem' not allowed",
        ),
        ("placement.yaml", "maxReplicas: 12", 'maxReplicas: "twelve"', "expected integer, but got string"),
        ("intake.yaml", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgett", "could not find schema"),
        ("kustomization.yaml", "  - return.yaml\n", "", "not listed: return.yaml"),
    ],
)
def test_a_broken_manifest_fails(tmp_path: Path, file: str, old: str, new: str, complaint: str) -> None:
    result = check(broken_copy(tmp_path, file, old, new))
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr
