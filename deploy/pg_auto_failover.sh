#!/usr/bin/env bash
# A primary with a synchronous standby under pg_auto_failover (Debian: postgresql-15-auto-failover).
# Run the section for each machine as the postgres user. Hosts: monitor 10.0.0.20, nodes 10.0.0.21, 10.0.0.22.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
export PATH="$PGBIN:$PATH"

case "${1:-}" in
  monitor)  # on 10.0.0.20
    pg_autoctl create monitor --pgdata /var/lib/postgresql/monitor --hostname 10.0.0.20 --pgport 5431 \
      --auth scram-sha-256 --ssl-self-signed --run ;;
  node)     # on 10.0.0.21 and 10.0.0.22: the first becomes the primary, the second its standby
    pg_autoctl create postgres --pgdata /var/lib/postgresql/node --hostname "$(hostname -I | awk '{print $1}')" \
      --pgport 5432 --dbname slotguard --monitor postgres://autoctl_node@10.0.0.20:5431/pg_auto_failover \
      --auth scram-sha-256 --ssl-self-signed --replication-quorum true --run ;;
  check)    # once both nodes run: each node in the replication quorum, so every commit waits for the standby
    # ("replication quorum | true" for both, synchronous_standby_names 'ANY 1 (pgautofailover_standby_…)').
    # With two standbys or more, `pg_autoctl set formation number-sync-standbys 1` keeps commits waiting for
    # one of them even while another is down.
    pg_autoctl show settings --pgdata /var/lib/postgresql/monitor
    pg_autoctl show state --pgdata /var/lib/postgresql/monitor ;;
  uri)      # the multi-host URL for SLOTGUARD_DATABASE_URL (add slotguard's user: postgres://slotguard@…)
    pg_autoctl show uri --formation default --pgdata /var/lib/postgresql/monitor ;;
  *)
    echo "usage: $0 monitor|node|check|uri" >&2; exit 2 ;;
esac
# slotguard takes that URL as it is printed (h1:5432,h2:5432 with target_session_attrs=read-write), or as
# SQLAlchemy writes it, one host= parameter per node:
#   postgresql://slotguard@/slotguard?host=10.0.0.21:5432&host=10.0.0.22:5432&target_session_attrs=read-write
# Each connection keeps the writable node. During a failover requests get 503 with Retry-After; the pool
# reconnects to the new primary by itself.
#
# Measured (tests/e2e/test_failover.py, a formation on one loaded 2-core machine, the monitor's health checks
# shortened to 2 s; bench/failover.py prints these from `slotguard verify --log`):
#   synchronous standby:  3 failovers under load (8 verify clients, 1,341 requests in 92 s), no write
#                         acknowledged for 7-12 s each, 232 requests answered 503 (all in doubt),
#                         0 acknowledged bookings lost;
#   asynchronous control: 1 failover (169 requests in 14 s), 7 s, 77 answered 503, 3 acknowledged bookings lost.
#   .venv/bin/python -m pytest tests/e2e/test_failover.py --basetemp /tmp/failover
#   .venv/bin/python -m bench.failover /tmp/failover/test_*0/verify.jsonl
# With the monitor's defaults (node_considered_unhealthy_timeout 20 s, primary_demote_timeout 30 s) a dead
# primary is replaced after about 50 s; shorten them (ALTER SYSTEM on the monitor) only as far as your
# network's hiccups allow.
