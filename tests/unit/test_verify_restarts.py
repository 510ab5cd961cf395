"""Which requests `slotguard verify` counts as in flight during a database restart, and how restarts are logged."""

from __future__ import annotations

import asyncio
import contextlib
import json

from slotguard.verify import Entry, FaultPlan, log_lines
from slotguard.verify.clients import Budget
from slotguard.verify.faults import FAILOVER, DatabaseRestart, FaultInjector


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


async def test_a_run_ending_mid_restart_waits_for_the_database_before_the_state_is_read(postgresql_url: str) -> None:
    plan = FaultPlan(database_url=postgresql_url, restart_database_command="sleep 0.6", restart_interval_seconds=0.01)
    faults = FaultInjector(plan)
    injector = asyncio.create_task(faults.run())
    await asyncio.sleep(0.3)  # the "restart" is under way
    injector.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await injector

    await faults.finish()

    [restart] = faults.database_restarts
    assert restart.exit_code == 0 and restart.ready_at is not None and restart.ready_at > restart.started_at
    assert faults.problems == []


def test_failovers_are_counted_logged_and_make_the_503s_during_them_undecided() -> None:
    faults = FaultInjector(FaultPlan())
    faults.database_restarts = [DatabaseRestart(10.0, 12.0, 0, kind=FAILOVER), DatabaseRestart(30.0, 31.0, 0)]

    assert faults.summary()["databaseFailovers"] == 1 and faults.summary()["databaseRestarts"] == 1
    assert faults.restarting_between(11.0, 11.5) and not faults.restarting_between(12.5, 29.0)
    [failover, restart] = [
        json.loads(line) for line in log_lines([], [r.as_log_line() for r in faults.database_restarts]).splitlines()
    ]
    assert failover["fault"] == "database_failover" and restart["fault"] == "database_restart"


def test_a_run_goes_on_past_its_operations_until_the_database_faults_asked_for_have_finished() -> None:
    faults = FaultInjector(FaultPlan(min_database_faults=2))
    numbers = iter(Budget(2, faults.wants_more))
    assert [next(numbers), next(numbers)] == [0, 1]

    faults.database_restarts = [DatabaseRestart(1.0, 2.0, kind=FAILOVER), DatabaseRestart(3.0, kind=FAILOVER)]
    assert next(numbers) == 2, "one failover finished, one under way"
    faults.database_restarts[1].ready_at = 4.0
    assert list(numbers) == []


def test_a_fault_gone_wrong_ends_the_run_at_its_operations() -> None:
    faults = FaultInjector(FaultPlan(min_database_faults=1))
    faults.problems.append("the failover command exited with 1")

    assert list(Budget(2, faults.wants_more)) == [0, 1]
