"""``make mutation``: mutation testing of the pure domain and the saga executor with mutmut, and its stored report.

mutmut (``[tool.mutmut]`` in pyproject.toml) mutates ``app/domain/`` and ``app/saga_handler.py`` in a ``mutants/``
copy and runs the unit tests against each mutant. The report (``docs/evidence/mutation/report.json``, and a dated
copy) records every mutant's status and the SHA-256 of the code it mutated, so a test can tell when the report is
stale. Survivors are triaged in ``docs/evidence/mutation/triage.toml``: ``equivalent`` (no test can tell the mutant
from the code; it leaves the score) or ``open`` (a missing test, counted against the score).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = ROOT / "docs" / "evidence" / "mutation"
REPORT = EVIDENCE / "report.json"
TRIAGE = EVIDENCE / "triage.toml"
TARGET = 0.85  # killed share of the non-equivalent mutants (docs/TESTING_STRATEGY.md §10)
KILLED = {"killed", "timeout"}  # a mutant that makes the tests fail or hang is caught


def mutated_paths() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return [ROOT / path for path in config["source_paths"]]


def code_digest() -> str:
    """SHA-256 over the mutated code (each file's path and text, in path order)."""
    digest = hashlib.sha256()
    files = sorted(file for path in mutated_paths() for file in ([path] if path.is_file() else path.rglob("*.py")))
    for file in files:
        digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def parse_results(text: str) -> dict[str, str]:
    """``mutmut results --all true`` lines (``name: status``) as a map."""
    found = (re.match(r"^\s*([\w.]+__mutmut_\d+): (.+?)\s*$", line) for line in text.splitlines())
    return {match[1]: match[2] for match in found if match}


def triage() -> dict[str, dict[str, str]]:
    """The survivors' triage: mutant name -> {"verdict": "equivalent" | "open", "why": ...}."""
    return tomllib.loads(TRIAGE.read_text()).get("mutant", {}) if TRIAGE.exists() else {}


def summarize(statuses: dict[str, str], triaged: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Counts and the score: killed over every mutant not triaged equivalent."""
    survivors = sorted(name for name, status in statuses.items() if status not in KILLED)
    equivalent = [name for name in survivors if triaged.get(name, {}).get("verdict") == "equivalent"]
    judged = len(statuses) - len(equivalent)
    killed = sum(1 for status in statuses.values() if status in KILLED)
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    return {"mutants": len(statuses), "by_status": dict(sorted(counts.items())), "equivalent": len(equivalent),
            "score": round(killed / judged, 4) if judged else 1.0, "target": TARGET, "survivors": survivors,
            "untriaged": [name for name in survivors if name not in triaged]}


def run() -> dict[str, Any]:
    """Run mutmut on a fresh ``mutants/`` copy and store the report (and a dated copy)."""
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    mutmut = [str(Path(sys.executable).with_name("mutmut"))]  # its script: `python -m mutmut` imports it twice
    if subprocess.run([*mutmut, "run", "--max-children", "2"], cwd=ROOT, check=False).returncode != 0:
        raise SystemExit("mutmut run failed (see above): no report written")
    listed = subprocess.run([*mutmut, "results", "--all", "true"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    statuses = parse_results(listed)
    if not statuses:
        raise SystemExit(f"mutmut reported no mutants:\n{listed[-2000:]}")
    now = datetime.now(UTC)
    report = {"date": now.isoformat(timespec="seconds"), "code_sha256": code_digest(),
              "paths": [path.relative_to(ROOT).as_posix() for path in mutated_paths()],
              **summarize(statuses, triage()), "statuses": dict(sorted(statuses.items()))}
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    REPORT.write_text(text)
    (EVIDENCE / f"report-{now:%Y-%m-%d}.json").write_text(text)
    return report


def main() -> None:
    report = run()
    print(f"{report['mutants']} mutants {report['by_status']}; score {report['score']:.1%} (target {TARGET:.0%}), "
          f"{len(report['untriaged'])} survivors not triaged in {TRIAGE.relative_to(ROOT)}")
    if report["score"] < TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
