"""When `serve --workers N` gives each worker a listening socket of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from slotguard.listening import own_sockets


@pytest.fixture
def setting(tmp_path: Path) -> Path:
    return tmp_path / "tcp_migrate_req"


def test_by_default_each_worker_gets_its_own_socket_only_where_the_kernel_moves_waiting_connections(
    setting: Path,
) -> None:
    setting.write_text("1\n")
    assert own_sockets(None, 4, setting)
    setting.write_text("0\n")
    assert not own_sockets(None, 4, setting)


def test_without_the_kernel_setting_the_workers_share_one_socket(setting: Path) -> None:
    assert not setting.exists()  # a kernel before 5.14, or not Linux
    assert not own_sockets(None, 4, setting)


def test_the_operator_s_choice_wins_over_the_kernel_setting(setting: Path) -> None:
    setting.write_text("0\n")
    assert own_sockets(True, 2, setting)
    setting.write_text("1\n")
    assert not own_sockets(False, 2, setting)


def test_one_worker_listens_on_one_socket_whatever_is_asked(setting: Path) -> None:
    setting.write_text("1\n")
    assert not own_sockets(True, 1, setting)
    assert not own_sockets(None, 1, setting)
