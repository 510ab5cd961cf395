"""What people see of the `slotguard` command: whole option names in its help at 80 columns, whole links
from `serve --demo`, text logs at a terminal and JSON elsewhere, progress on a terminal or as lines, and a
quick start (the command loads no database, web or test-tool library before a command asks for it)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from slotguard import cli
from slotguard.api.logs import format_for
from slotguard.progress import ProgressReport
from slotguard.storage.migrations import upgrade
from tests.e2e.conftest import free_port, stop_server


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
    return found


EVERY_COMMAND = commands(typer.main.get_group(cli.app))


@pytest.mark.parametrize(("path", "command"), EVERY_COMMAND, ids=[" ".join(p) for p, _ in EVERY_COMMAND])
def test_help_shows_every_option_name_whole_in_80_columns(path: tuple[str, ...], command: click.Command) -> None:
    shown = CliRunner().invoke(cli.app, [*path, "--help"], terminal_width=80, env={"COLUMNS": "80"})

    assert shown.exit_code == 0, shown.output
    names = [name for param in command.params for name in (*param.opts, *param.secondary_opts)]
    words = set(re.findall(r"--?[\w-]+", shown.output))
    assert [name for name in names if name.startswith("-") and name not in words] == []
    assert "…" not in shown.output
    assert max(len(line) for line in shown.output.splitlines()) <= 80


def test_the_command_loads_no_heavy_library_before_a_command_needs_it() -> None:
    """Each server start (and each worker of `serve --workers N` started as `slotguard`) imports the command:
    the database, web, stress and verify libraries would add most of a second to each."""
    heavy = ("sqlalchemy", "alembic", "uvicorn", "fastapi", "httpx", "pydantic_settings", "slotguard.verify",
             "slotguard.stress", "slotguard.storage", "slotguard.services")  # fmt: skip
    script = f"import sys, slotguard.cli; print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"

    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout

    assert loaded.strip() == "[]"


def test_demo_prints_each_link_whole_on_one_line_in_a_narrow_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    narrow = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=narrow, width=50, force_terminal=True))

    shown = CliRunner().invoke(cli.app, ["demo", "--url", "http://127.0.0.1:8000"], env={"SLOTGUARD_DATABASE_URL": url})

    assert shown.exit_code == 0, shown.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", narrow.getvalue())
    links = re.findall(r"http://\S+", text)
    assert any(link.endswith("/owner/" + link.rsplit("/", 1)[-1]) for link in links)
    service_links = [link for link in links if "?service=" in link]
    assert service_links
    assert all(re.search(r"\?service=[0-9a-f-]{36}$", link) for link in service_links), service_links


def test_logs_are_text_at_a_terminal_and_json_in_a_pipe() -> None:
    terminal, other_end = os.openpty()
    with os.fdopen(other_end, "w") as tty, os.fdopen(os.pipe()[1], "w") as pipe:
        assert format_for(tty) == "text"
        assert format_for(pipe) == "json"
    os.close(terminal)


def test_serve_writes_text_logs_to_a_terminal(tmp_path: Path) -> None:
    terminal, other_end = os.openpty()
    env = os.environ | {"SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'tty.db'}"}
    env.pop("SLOTGUARD_LOG_FORMAT", None)  # the default is what is tested
    command = [sys.executable, "-m", "slotguard", "serve", "--port", str(free_port())]
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=other_end, stderr=other_end)
    os.close(other_end)
    try:
        seen = _read_until(terminal, b"Application startup complete", timeout_seconds=60)
    finally:
        stop_server(process)
        os.close(terminal)

    line = next(line for line in seen.splitlines() if "Application startup complete" in line)
    assert not line.lstrip().startswith("{")
    assert "INFO uvicorn.error: Application startup complete" in line


def _read_until(fd: int, marker: bytes, timeout_seconds: float) -> str:
    seen = b""
    deadline = time.monotonic() + timeout_seconds
    while marker not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(fd, 4096)
        except OSError:  # the server closed its end
            break
    return seen.decode(errors="replace")


def test_progress_is_a_bar_at_a_terminal_and_plain_lines_elsewhere() -> None:
    drawn, written = io.StringIO(), io.StringIO()
    for console in (Console(file=drawn, force_terminal=True, width=80), Console(file=written, force_terminal=False)):
        with ProgressReport(console, "verify: 10 operations", 10, every_seconds=0) as progress:
            progress.advanced_to(3)
            progress.entered("reading the stored state back")
            progress.advanced_to(10)

    assert "━" in drawn.getvalue() and "10/10" in drawn.getvalue()
    assert written.getvalue().splitlines() == [
        "verify: 10 operations: started, 10 in all",
        "verify: 10 operations: 3/10 (30%) after 0 s",
        "verify: 10 operations: reading the stored state back after 0 s",
        "verify: 10 operations: 10/10 (100%) after 0 s",
        "verify: 10 operations: finished, 10/10 after 0 s",
    ]
