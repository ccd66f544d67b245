"""``make chaos-soak``: the chaos run many times in a row, each on its own seed, with dated evidence.

Each run is the full chaos test (own 3-broker cluster and PostgreSQL, three worker SIGKILLs, a broker restart,
vendor 5xx and 429 bursts) judged on the sandbox and on the processed-offset ledger. The evidence — one JSON line per
run and a Markdown summary with the verdict "N consecutive green runs" — goes to ``docs/evidence/chaos-soak/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

EVIDENCE = Path(__file__).resolve().parents[2] / "docs" / "evidence" / "chaos-soak"
RESULT = re.compile(r"chaos seed=\d+: .*")


def run_once(seed: int) -> dict[str, object]:
    """One chaos run in its own temporary directory: removed when green; kept when red (the stack's logs and data,
    and the test's output in ``pytest.out``) so that the cause of a red run can be read afterwards."""
    started = time.monotonic()
    scratch = Path(f"/tmp/lis-soak-seed-{seed}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    env = {**os.environ, "LIS_CHAOS_SEED": str(seed), "TMPDIR": str(scratch), "LIS_KEEP_STACK": "1"}
    # --runxfail: the soak judges the run strictly, whatever make test's marker says while a defect is open.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--runxfail",
                           "tests/chaos/test_chaos_run.py"], env=env, capture_output=True, text=True, check=False)
    found = RESULT.findall(done.stdout)
    result: dict[str, object] = {"seed": seed, "passed": done.returncode == 0,
                                 "seconds": round(time.monotonic() - started),
                                 "result": found[-1] if found else done.stdout.strip().splitlines()[-1:]}
    if done.returncode == 0:
        shutil.rmtree(scratch, ignore_errors=True)
    else:
        (scratch / "pytest.out").write_text(done.stdout + done.stderr)
        result["kept"] = str(scratch)
    return result


def write_summary(path: Path, stamp: str, commit: str, runs: int, results: list[dict[str, object]]) -> None:
    """The Markdown summary, rewritten after every run so that a soak cut short still leaves its verdict so far."""
    streak = next((i for i, r in enumerate(results) if not r["passed"]), len(results))
    green = sum(bool(r["passed"]) for r in results)
    summary = [f"# Chaos soak {stamp} (commit {commit})", "",
               f"{green} of {len(results)} runs green ({runs} planned); {streak} consecutive green from the first.",
               "", "| seed | verdict | seconds | result |", "|---|---|---|---|"]
    summary += [f"| {r['seed']} | {'green' if r['passed'] else 'red'} | {r['seconds']} | {r['result']} |"
                for r in results]
    path.write_text("\n".join(summary) + "\n")


def main(runs: int = typer.Option(20, help="How many runs."),
         first_seed: int = typer.Option(1, help="Seed of the first run; each next run takes the next seed.")) -> None:
    """Run the chaos test ``runs`` times and write dated evidence; exits 1 when any run failed."""
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%MZ")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip() or "unknown"
    lines = EVIDENCE / f"{stamp}.jsonl"
    results = []
    for seed in range(first_seed, first_seed + runs):
        result = {**run_once(seed), "commit": commit}
        results.append(result)
        with lines.open("a") as out:
            out.write(json.dumps(result) + "\n")
        typer.echo(f"run {len(results)}/{runs}: {'green' if result['passed'] else 'RED'} {result['result']}")
        write_summary(EVIDENCE / f"{stamp}.md", stamp, commit, runs, results)
    raise typer.Exit(0 if all(r["passed"] for r in results) else 1)


if __name__ == "__main__":
    typer.run(main)
