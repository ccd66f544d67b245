"""Every RFC 6962 vector of transparency-dev/merkle (copied to tests/testdata/rfc6962) against app.audit.merkle.

Each JSON file is one test id. Files with ``wantErr: true`` are tampered proofs that must be refused. The vectors
live in the repository (Apache-2.0, licence and source beside them), so a fresh clone needs nothing next to it; a
missing vector folder fails the run instead of silently skipping.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from app.audit.merkle import (
    InvalidProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

VECTOR_DIR = Path(__file__).resolve().parents[1] / "testdata" / "rfc6962"

# The leaves behind the numbered vector folders: the reference tree of transparency-dev/merkle's
# proof/verify_test.go, so the happy paths can be regenerated, not only verified.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]


def vector_params(kind: str, pattern: str = "*.json") -> list[Any]:
    folder = VECTOR_DIR / kind
    files = sorted(folder.rglob(pattern))
    if not files:
        # One failing case rather than an empty, skipped parametrisation.
        return [pytest.param(None, id=f"{kind}-vectors-missing")]
    return [pytest.param(path, id=path.relative_to(folder).with_suffix("").as_posix()) for path in files]


def load(path: Path | None) -> dict[str, Any]:
    assert path is not None, f"no RFC 6962 vectors under {VECTOR_DIR}"
    vector: dict[str, Any] = json.loads(path.read_text())
    return vector


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def proof_of(vector: dict[str, Any]) -> list[bytes]:
    return [b64(node) for node in vector["proof"] or []]  # the Go vectors write an empty proof as null


@pytest.mark.parametrize("path", vector_params("inclusion"))
def test_inclusion_vector_is_accepted_or_refused_as_the_vector_says(path: Path | None) -> None:
    v = load(path)
    args = (b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof_of(v), b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(InvalidProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", vector_params("consistency"))
def test_consistency_vector_is_accepted_or_refused_as_the_vector_says(path: Path | None) -> None:
    v = load(path)
    args = (v["size1"], v["size2"], proof_of(v), b64(v["root1"]), b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(InvalidProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


@pytest.mark.parametrize("path", vector_params("inclusion", "[0-9]/happy-path.json"))
def test_generated_inclusion_proof_equals_the_happy_path_vector(path: Path | None) -> None:
    v = load(path)
    leaves = [leaf_hash(data) for data in REFERENCE_LEAVES[: v["treeSize"]]]
    assert leaves[v["leafIdx"]] == b64(v["leafHash"])
    assert inclusion_proof(v["leafIdx"], leaves) == proof_of(v)


@pytest.mark.parametrize("path", vector_params("consistency", "[0-9]/happy-path.json"))
def test_generated_consistency_proof_equals_the_happy_path_vector(path: Path | None) -> None:
    v = load(path)
    leaves = [leaf_hash(data) for data in REFERENCE_LEAVES[: v["size2"]]]
    assert consistency_proof(v["size1"], leaves) == proof_of(v)
