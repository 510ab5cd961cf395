"""What each failover cost, read from a `slotguard verify --fault-failover-database … --log FILE` run:

    .venv/bin/python -m bench.failover verify.jsonl [verify.jsonl …]

Per failover (a `database_failover` line of the log): how long its command and the wait for a writable
primary took, how long no write succeeded (from the last write acknowledged before the database stopped
answering to the first one after), how many requests were answered 503, and how many of those were in
doubt. `tests/e2e/test_failover.py` runs such a verify against a pg_auto_failover formation; keep its
logs with `--basetemp`:

    .venv/bin/python -m pytest tests/e2e/test_failover.py --basetemp /tmp/failover
    .venv/bin/python -m bench.failover /tmp/failover/test_*/verify.jsonl

Losses are what the verify summary's `violations` name ("acknowledged booking … is not stored"): read
from `summary.json` (verify's `--json` output) beside the log, where the test keeps it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

READS = {"look"}


def figures(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    requests = [line for line in lines if "fault" not in line]
    writes = sorted((r for r in requests if r["op"] not in READS), key=lambda r: r["replied_at"])
    found = []
    for fault in (line for line in lines if line.get("fault") == "database_failover"):
        start, ready = fault["started_at"], fault["ready_at"] or float("inf")
        failed = [r for r in writes if r["status"] == 503 and r["replied_at"] >= start]
        first_failure = min((r["replied_at"] for r in failed), default=None)
        if first_failure is None:
            found.append({"commandSeconds": round(ready - start, 1), "noWriteSeconds": 0.0, "503s": 0, "inDoubt": 0})
            continue
        before = max((r["replied_at"] for r in writes if _ok(r) and r["replied_at"] < first_failure), default=start)
        after = min((r["replied_at"] for r in writes if _ok(r) and r["replied_at"] > first_failure), default=None)
        during = [r for r in requests if r["status"] == 503 and before <= r["replied_at"] <= (after or ready)]
        found.append({
            "commandSeconds": round(ready - start, 1),
            "noWriteSeconds": round((after or ready) - before, 1),
            "503s": len(during),
            "inDoubt": sum(bool(r["in_doubt"]) for r in during),
        })  # fmt: skip
    return found


def _ok(request: dict[str, Any]) -> bool:
    return request["status"] is not None and 200 <= request["status"] < 300


def main(paths: list[str]) -> None:
    for path in paths:
        lines = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        for n, found in enumerate(figures(lines), 1):
            print(f"{path} failover {n}: " + ", ".join(f"{k} {v}" for k, v in found.items()))
        summary = Path(path).parent / "summary.json"
        if summary.exists():
            violations = json.loads(summary.read_text())["violations"]
            lost = sum("is not stored" in v for v in violations)
            print(f"{path}: acknowledged bookings lost {lost}, violations {len(violations)}")


if __name__ == "__main__":
    main(sys.argv[1:])
