"""Which requests `slotguard verify` counts as in flight during a database restart, and how restarts are logged."""

from __future__ import annotations

import json

from slotguard.verify import Entry, FaultPlan, log_lines
from slotguard.verify.faults import DatabaseRestart, FaultInjector


def test_a_request_overlapping_a_restart_counts_as_during_it_even_while_it_goes_on() -> None:
    faults = FaultInjector(FaultPlan())
    faults.database_restarts = [DatabaseRestart(10.0, ready_at=12.0), DatabaseRestart(20.0)]
    assert faults.restarting_between(9.0, 10.5)
    assert faults.restarting_between(11.9, 13.0)
    assert not faults.restarting_between(12.1, 19.9)
    assert faults.restarting_between(25.0, 26.0), "not back yet"


def test_restarts_are_logged_among_the_replies_by_time() -> None:
    log = [Entry("look", {}, 200, replied_at=5.0), Entry("look", {}, 503, replied_at=11.0)]
    restarts = [DatabaseRestart(10.0, 12.0, 0).as_log_line(), DatabaseRestart(30.0).as_log_line()]
    lines = [json.loads(line) for line in log_lines(log, restarts).splitlines()]
    assert [line.get("fault") or line["status"] for line in lines] == [200, "database_restart", 503, "database_restart"]
    assert lines[1] == {"fault": "database_restart", "started_at": 10.0, "ready_at": 12.0, "exit_code": 0}
