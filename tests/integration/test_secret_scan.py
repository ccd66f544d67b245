"""The secret scan of make lint (gitleaks, pinned, with .gitleaks.toml): the repository and its history are clean, the
scan fails on a planted key, and the allowlist names public test vectors by value, so a real secret placed right
beside one is still found."""

from __future__ import annotations

import secrets
import shutil
import string
import subprocess
from pathlib import Path

from app.devstack.scanners import gitleaks_bin

ROOT = Path(__file__).resolve().parents[2]


def planted() -> str:
    """A fresh AWS-shaped key pair, made at run time so that no key is ever in this file (or its history)."""
    alphabet = string.ascii_uppercase + "234567"
    key = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    return f'aws_key = "{key}"\naws_secret = "{secret}"\n'


def scan(repo: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(gitleaks_bin()), *(mode or ("git",)), "--redact", "--no-banner", "--config",
                           str(ROOT / ".gitleaks.toml"), str(repo)], capture_output=True, text=True, timeout=120)


def repository(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    for name, text in files.items():
        (repo / name).write_text(text)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "files"], check=True)
    return repo


def test_the_repository_and_its_history_are_clean() -> None:
    assert shutil.which("git")
    result = scan(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no leaks found" in result.stderr + result.stdout


def test_a_planted_key_fails_the_scan_even_beside_an_allowed_test_vector(tmp_path: Path) -> None:
    vector = 'VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\n'
    assert scan(repository(tmp_path / "a", {"vectors.py": vector})).returncode == 0, "the public vector is allowed"
    found = scan(repository(tmp_path / "b", {"vectors.py": vector + planted()}))
    assert found.returncode == 1, found.stdout + found.stderr
    assert "leaks found" in found.stderr + found.stdout
