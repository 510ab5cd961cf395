"""A pg_auto_failover formation of a test's own: a monitor, a primary and a standby (Debian's
postgresql-15-auto-failover), each `pg_autoctl run` in a folder of its own on a free loopback port.

`python -m tests.e2e.auto_failover fail-over FOLDER` is the shell command `slotguard verify
--fault-failover-database` runs: the primary's host dies (its link to the standby stalls for a moment, as a
network would before a crash, then every process of the node is killed at once), the monitor promotes the
standby, and the dead node is started again and rejoins as the new standby. With synchronous replication
the commits made during the stall wait for the standby and are never acknowledged; without it they are
acknowledged and lost with the node.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from slotguard.verify.faults import process_ids
from tests.e2e.conftest import free_port
from tests.e2e.throwaway_postgres import _as_cluster_owner, _bin

DATABASE = "slotguard"
# The monitor's health checks, fast enough for a test (the defaults take about 30 s to fail a dead primary
# over: 20 s to call it unhealthy, 30 s to let it demote itself). Production keeps the defaults.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "2000",
    "pgautofailover.primary_demote_timeout": "2000",
}
PRIMARY_STATES = ("primary", "wait_primary", "apply_settings", "join_primary")
STALL_SECONDS = 1.5  # how long the primary's link to its standby stalls before the primary's host dies
STATE_TIMEOUT_SECONDS = 90.0


@dataclass
class Node:
    name: str
    port: int
    pid: int | None = None  # of its `pg_autoctl run` (a process group of its own)


@dataclass
class Formation:
    folder: Path
    monitor: Node
    nodes: list[Node] = field(default_factory=list)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)  # by this process, to reap

    # -- where things are ---------------------------------------------------------------------------

    def pgdata(self, node: Node) -> Path:
        return self.folder / node.name

    def monitor_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.monitor.port}/pg_auto_failover"

    def node_url(self, node: Node, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{node.port}/{database}"

    def uri(self, database: str = DATABASE) -> str:
        """`pg_autoctl show uri` (every node, `target_session_attrs=read-write`), as user postgres, for
        `database`."""
        shown = self._autoctl("show", "uri", "--formation", "default", "--pgdata", str(self.pgdata(self.monitor)))
        uri = shown.stdout.strip()
        assert uri.startswith("postgres://") and f"/{DATABASE}?" in uri, uri
        return uri.replace("postgres://", "postgres://postgres@", 1).replace(f"/{DATABASE}?", f"/{database}?")

    # -- starting and stopping ----------------------------------------------------------------------

    def run(self, node: Node) -> None:
        """Start the node's `pg_autoctl run` (which starts and watches its PostgreSQL) in the background."""
        command = _as_cluster_owner(["pg_autoctl", "run", "--pgdata", str(self.pgdata(node))])
        with open(self.folder / f"{node.name}.log", "a") as log:  # the process keeps its own copy
            process = subprocess.Popen(command, env=self._env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True)  # fmt: skip
        node.pid = process.pid
        self.started.append(process)
        self.save()

    def kill(self, node: Node) -> None:
        """The node's host dies: every process of it (its pg_autoctl, PostgreSQL and each backend) stopped at
        once, then killed, so that nothing it does after the first moment reaches anyone."""
        processes = _descendants(node.pid) if node.pid else set()
        for signal_number in (signal.SIGSTOP, signal.SIGKILL):
            for pid in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal_number)
        node.pid = None
        self.save()

    def stop_all(self) -> None:
        for node in [*self.nodes, self.monitor]:
            self.kill(node)
        for process in self.started:
            process.wait(timeout=30)

    # -- the formation's state ----------------------------------------------------------------------

    def states(self) -> dict[str, tuple[str, str]]:
        """Each node's reported and assigned state, as the monitor has them."""
        with psycopg.connect(self.monitor_url(), autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute("SELECT nodename, reportedstate, goalstate FROM pgautofailover.node").fetchall()
        return {str(name): (str(reported), str(goal)) for name, reported, goal in rows}

    def wait_for(self, wanted: dict[str, set[str]], timeout_seconds: float = STATE_TIMEOUT_SECONDS) -> None:
        """Until each named node both reports and is assigned one of the states wanted for it."""
        deadline = time.monotonic() + timeout_seconds
        states: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(psycopg.OperationalError):
                states = self.states()
                if all(set(states.get(name, ())) <= accepted and name in states for name, accepted in wanted.items()):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the formation did not reach {wanted}: {states}")

    def primary(self) -> Node:
        states = self.states()
        [primary] = [n for n in self.nodes if states[n.name][0] in PRIMARY_STATES]
        return primary

    def standby(self) -> Node:
        primary = self.primary()
        [standby] = [n for n in self.nodes if n is not primary]
        return standby

    def set_synchronous(self, synchronous: bool) -> None:
        """Whether a commit waits for the standby (every node in the replication quorum, or none)."""
        # What `pg_autoctl set node replication-quorum` calls (the command itself fails now and then in
        # pg_auto_failover 2.0 while it lists the nodes afterwards).
        with psycopg.connect(self.monitor_url(), autocommit=True, connect_timeout=5) as conn:
            for node in self.nodes:
                query = "SELECT pgautofailover.set_node_replication_quorum('default', %s, %s)"
                conn.execute(query, (node.name, synchronous))
        self.wait_healthy()
        deadline = time.monotonic() + STATE_TIMEOUT_SECONDS
        while (self._primary_setting("synchronous_standby_names") != "") != synchronous:
            if time.monotonic() > deadline:
                raise RuntimeError(f"synchronous_standby_names did not change to synchronous={synchronous}")
            time.sleep(0.2)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.node_url(self.primary()), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.uri(name)

    # -- the fault ------------------------------------------------------------------------------------

    def fail_over(self) -> None:
        """Once the formation is whole again (the node killed last time back as the standby), kill the primary's
        host after its link to the standby stalled, wait for the standby's promotion, and start the dead node
        again: it rejoins as the new primary's standby while the run goes on."""
        self.wait_healthy()
        primary, standby = self.primary(), self.standby()
        senders = _walsenders(_descendants(primary.pid) if primary.pid else set())
        for pid in senders:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(STALL_SECONDS)
        self.kill(primary)
        self.wait_for({standby.name: {"wait_primary", "primary"}})
        self.run(primary)

    def wait_healthy(self) -> None:
        """Until one node is the primary and the other its standby, with nothing under way."""
        self.wait_for({n.name: {"primary", "secondary"} for n in self.nodes})

    # -- plumbing -------------------------------------------------------------------------------------

    def save(self) -> None:
        state = {"monitor": asdict(self.monitor), "nodes": [asdict(n) for n in self.nodes]}
        (self.folder / "formation.json").write_text(json.dumps(state))

    @classmethod
    def load(cls, folder: Path) -> Formation:
        state = json.loads((folder / "formation.json").read_text())
        return cls(folder, Node(**state["monitor"]), [Node(**n) for n in state["nodes"]])

    def _env(self) -> dict[str, str]:
        # pg_autoctl keeps its configuration, state and pid files under these: all in the formation's folder.
        folders = {"XDG_CONFIG_HOME": "config", "XDG_DATA_HOME": "share", "XDG_RUNTIME_DIR": "run"}
        return os.environ | {variable: str(self.folder / name) for variable, name in folders.items()}

    def _autoctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(_as_cluster_owner(["pg_autoctl", *args]), env=self._env(), check=True,
                              capture_output=True, text=True, errors="replace", timeout=120)  # fmt: skip

    def _primary_setting(self, name: str) -> str:
        with psycopg.connect(self.node_url(self.primary()), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(f"SHOW {name}").fetchone()
        return str(row[0]) if row else ""

    def _create_monitor(self) -> None:
        pgdata = str(self.pgdata(self.monitor))
        self._autoctl("create", "monitor", "--pgdata", pgdata, "--pgport", str(self.monitor.port), "--hostname",
                      "127.0.0.1", "--auth", "trust", "--no-ssl", "--pgctl", _bin("pg_ctl"))  # fmt: skip
        # `create monitor` has no --listen: loopback only, as every server the tests start.
        config = self.folder / "config" / "pg_autoctl" / pgdata.lstrip("/") / "pg_autoctl.cfg"
        config.write_text(config.read_text().replace("listen_addresses = *", "listen_addresses = 127.0.0.1"))
        self.run(self.monitor)
        deadline = time.monotonic() + STATE_TIMEOUT_SECONDS
        while True:
            try:
                with psycopg.connect(self.monitor_url(), autocommit=True, connect_timeout=5) as conn:
                    for setting, value in MONITOR_SETTINGS.items():
                        conn.execute(f"ALTER SYSTEM SET {setting} = '{value}'")
                    conn.execute("SELECT pg_reload_conf()")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _create_node(self, node: Node) -> None:
        monitor = f"postgres://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover?sslmode=disable"
        self._autoctl("create", "postgres", "--pgdata", str(self.pgdata(node)), "--pgport", str(node.port),
                      "--listen", "127.0.0.1", "--hostname", "127.0.0.1", "--name", node.name, "--dbname", DATABASE,
                      "--monitor", monitor, "--auth", "trust", "--no-ssl", "--pgctl", _bin("pg_ctl"))  # fmt: skip
        self.nodes.append(node)
        self.run(node)


def _descendants(root: int) -> set[int]:
    """The process and every process started under it (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for pid in process_ids():
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += children.get(pid, [])
    return found


def _walsenders(processes: set[int]) -> list[int]:
    senders = []
    for pid in processes:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres: walsender"):
                senders.append(pid)
    return senders


@contextmanager
def auto_failover_formation() -> Iterator[Formation]:
    """A monitor, then a primary, then its standby, all running; stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="slotguard-autofailover-"))
    for sub in ("config", "share", "run"):
        (folder / sub).mkdir()
    if os.geteuid() == 0:
        for path in [folder, *folder.iterdir()]:
            shutil.chown(path, "postgres", "postgres")
    formation = Formation(folder, Node("monitor", free_port()))
    try:
        formation._create_monitor()
        for name in ("node1", "node2"):
            formation._create_node(Node(name, free_port()))
        formation.wait_for({"node1": {"primary"}, "node2": {"secondary"}})
        yield formation
    finally:
        if (folder / "formation.json").exists():  # the fail-over command restarts nodes: their pids are here
            formation.nodes, formation.monitor = (saved := Formation.load(folder)).nodes, saved.monitor
        formation.stop_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "fail-over":
        sys.exit("usage: python -m tests.e2e.auto_failover fail-over FOLDER")
    Formation.load(Path(sys.argv[2])).fail_over()
