#!/usr/bin/env bash
# Ferry's two throwaway PostgreSQL clusters for the demo and the tests:
#   heroku  the migration's source, 127.0.0.1:5433, wal_level=logical
#   rds     the migration's target, 127.0.0.1:5434
# Installs PostgreSQL when it is missing (Debian), creates and starts the clusters, and gives
# each a password-protected superuser "ferry". Idempotent: run it as often as you like.
#
# The clusters trade durability for speed (fsync off): they hold test data only.
#
# Usage: worker/dev/postgres-clusters.sh [start|stop|status|drop]
set -euo pipefail

PG_VERSION=${FERRY_PG_VERSION:-15}
SOURCE_PORT=${FERRY_PG_SOURCE_PORT:-5433}
TARGET_PORT=${FERRY_PG_TARGET_PORT:-5434}
PG_USER=${FERRY_PG_USER:-ferry}
PG_PASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}

say() { printf 'postgres-clusters: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (run this script as root, or install sudo)"; fi
}

install_postgres() {
  if [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] && command -v pg_createcluster >/dev/null; then
    return
  fi
  say "installing PostgreSQL $PG_VERSION"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # Debian's post-install script tries to start a default cluster through systemd; without
  # systemd that fails harmlessly, and the "main" cluster is not needed here.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "postgresql-$PG_VERSION" "postgresql-client-$PG_VERSION" postgresql-common
  [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] || die "PostgreSQL $PG_VERSION did not install"
}

cluster_exists() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VERSION" -v n="$1" '$1==v && $2==n {f=1} END {exit !f}'; }
cluster_online() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VERSION" -v n="$1" '$1==v && $2==n && $4 ~ /online/ {f=1} END {exit !f}'; }
cluster_port() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VERSION" -v n="$1" '$1==v && $2==n {print $3}'; }

# ensure_cluster NAME PORT EXTRA_SETTINGS
ensure_cluster() {
  local name=$1 port=$2 extra=$3
  if ! cluster_exists "$name"; then
    if ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE "[:.]$port\$"; then
      die "port $port is taken by another server; set FERRY_PG_$( [ "$name" = heroku ] && echo SOURCE || echo TARGET )_PORT"
    fi
    say "creating cluster $name on port $port"
    as_root pg_createcluster "$PG_VERSION" "$name" -p "$port" -- \
      --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  local actual
  actual=$(cluster_port "$name")
  [ "$actual" = "$port" ] || die "cluster $name already exists on port $actual, not $port; drop it with: $0 drop"

  local conf="/etc/postgresql/$PG_VERSION/$name/conf.d/ferry.conf"
  local wanted
  wanted=$(printf '%s\n' \
    "# Written by Ferry's worker/dev/postgres-clusters.sh: a throwaway cluster for tests." \
    "listen_addresses = '127.0.0.1'" \
    "max_connections = 200" \
    "fsync = off" \
    "synchronous_commit = off" \
    "full_page_writes = off" \
    "$extra")
  local changed=no
  if [ "$(as_root cat "$conf" 2>/dev/null || true)" != "$wanted" ]; then
    printf '%s\n' "$wanted" | as_root tee "$conf" >/dev/null
    changed=yes
  fi

  if cluster_online "$name"; then
    if [ "$changed" = yes ]; then
      say "restarting $name for its new settings"
      as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$name" restart
    fi
  else
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$name" start
  fi

  # The superuser Ferry's demo and tests connect as, over TCP with a password.
  as_root runuser -u postgres -- psql -X -q -p "$port" -v ON_ERROR_STOP=1 -d postgres \
    -v user="$PG_USER" -v password="$PG_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN SUPERUSER PASSWORD %L', :'user', :'password') \gexec
SQL
  say "$name is up: postgres://$PG_USER:***@127.0.0.1:$port/postgres"
}

case "${1:-start}" in
  start)
    install_postgres
    ensure_cluster heroku "$SOURCE_PORT" "wal_level = logical"
    ensure_cluster rds "$TARGET_PORT" ""
    ;;
  stop)
    for c in heroku rds; do cluster_online "$c" && as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$c" stop; done
    ;;
  status)
    pg_lsclusters
    ;;
  drop)
    for c in heroku rds; do cluster_exists "$c" && as_root pg_dropcluster --stop "$PG_VERSION" "$c"; done
    ;;
  *)
    die "usage: $0 [start|stop|status|drop]"
    ;;
esac
