"""Progress of a long command (`stress`, `verify`): a Rich bar for a person at a terminal, plain lines
for a log file or CI, where a bar would be drawn as thousands of control sequences or not at all.

Written to the console it is given (the commands use standard error, so `--json` output stays clean).
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

# How often a plain line is written while the count moves (a line per step would flood a log).
PLAIN_EVERY_SECONDS = 5.0


class ProgressReport:
    """`with ProgressReport(...) as report:` then `report.advanced_to(n)` and `report.entered(phase)`."""

    def __init__(
        self, console: Console, description: str, total: int, *, every_seconds: float = PLAIN_EVERY_SECONDS
    ) -> None:
        self.console, self.description, self.total = console, description, total
        self.every_seconds = every_seconds
        self.done = 0
        self._started = self._last_line = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressReport:
        if self.console.is_terminal:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            self._bar = Progress(*columns, console=self.console)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=self.total)
        else:
            self._line(f"{self.description}: started, {self.total} in all")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)
        elif error is None:
            self._line(f"{self.description}: finished, {self.done}/{self.total} {self._elapsed()}")

    def advanced_to(self, done: int) -> None:
        if done == self.done:
            return
        self.done = done
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done)
        elif time.monotonic() - self._last_line >= self.every_seconds:
            share = f" ({100 * done // self.total}%)" if self.total else ""
            self._line(f"{self.description}: {done}/{self.total}{share} {self._elapsed()}")

    def entered(self, phase: str) -> None:
        """A step with no count (reading the stored state back, waiting for holds to lapse)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=f"{self.description}: {phase}")
        else:
            self._line(f"{self.description}: {phase} {self._elapsed()}")

    def _elapsed(self) -> str:
        return f"after {time.monotonic() - self._started:.0f} s"

    def _line(self, text: str) -> None:
        self._last_line = time.monotonic()
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
