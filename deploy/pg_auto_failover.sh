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
      --auth scram-sha-256 --ssl-self-signed --run ;;
  sync)     # once both nodes run: every commit waits for the standby (number_sync_standbys 1)
    pg_autoctl set formation number-sync-standbys 1 --pgdata /var/lib/postgresql/node ;;
  uri)      # the multi-host URL for SLOTGUARD_DATABASE_URL (or PgBouncer's [databases] entry)
    pg_autoctl show uri --formation default --pgdata /var/lib/postgresql/monitor ;;
  *)
    echo "usage: $0 monitor|node|sync|uri" >&2; exit 2 ;;
esac
# slotguard then connects to both nodes, the writable one chosen at each connection (`pg_autoctl show uri`
# prints them as h1:5432,h2:5432; SQLAlchemy takes one `host=` parameter per node):
#   postgresql://slotguard@/slotguard?host=10.0.0.21:5432&host=10.0.0.22:5432&target_session_attrs=read-write
# During a failover requests get 503 with Retry-After; the pool reconnects to the new primary by itself.
