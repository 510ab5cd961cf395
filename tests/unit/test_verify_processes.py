"""How the fault injector finds a server's workers in /proc while processes come and go."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from slotguard.verify.faults import process_ids, workers_of


def test_process_ids_lists_the_living_and_not_a_reaped_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert {os.getpid(), child.pid} <= set(process_ids())
    finally:
        child.kill()
        child.wait()
    assert child.pid not in process_ids()


def test_workers_are_found_while_other_processes_start_and_exit_all_the_time() -> None:
    """The injector lists workers many times a second during a run; a process ending between the listing and
    the read must be skipped, never end the run (it once did, with ProcessLookupError from a /proc glob)."""
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            for short_lived in [subprocess.Popen(["true"]) for _ in range(10)]:
                short_lived.wait()

    churner = threading.Thread(target=churn)
    churner.start()
    try:
        for _ in range(300):
            assert workers_of(os.getpid()) == set()  # this process spawned no uvicorn workers
    finally:
        stop.set()
        churner.join()
