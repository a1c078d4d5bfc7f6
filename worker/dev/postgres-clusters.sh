#!/usr/bin/env bash
# Ferry's two throwaway PostgreSQL clusters for the demo and the tests:
#   heroku  the migration's source, 127.0.0.1:5433, wal_level=logical
#   rds     the migration's target, 127.0.0.1:5434; also holds ferry_ledger, the run ledger of
#           ./ferry dev and ./ferry demo (tests make ledger databases of their own)
# Installs PostgreSQL when it is missing (Debian), creates and starts the clusters, and gives
# each a password-protected superuser "ferry". Idempotent: run it as often as you like.
#
# The clusters trade durability for speed (fsync off): they hold test data only.
#
# Usage: worker/dev/postgres-clusters.sh [start|stop|status|drop]
set -euo pipefail

PG_VERSION=${FERRY_PG_VERSION:-}
SOURCE_PORT=${FERRY_PG_SOURCE_PORT:-5433}
TARGET_PORT=${FERRY_PG_TARGET_PORT:-5434}
PG_USER=${FERRY_PG_USER:-ferry}
PG_PASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}
# psql reads these with \getenv, so the password never appears on a command line.
export FERRY_PG_USER=$PG_USER FERRY_PG_PASSWORD=$PG_PASSWORD

say() { printf 'postgres-clusters: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (run this script as root, or install sudo)"; fi
}

newest_installed() {
  ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed -E 's|.*/postgresql/([0-9]+)/bin/postgres|\1|' | sort -n | tail -n 1
}

# PostgreSQL 15 when it is there or installable (the version the tests were written on), else
# the newest installed, else Debian's default; FERRY_PG_VERSION overrides.
install_postgres() {
  if [ -z "$PG_VERSION" ]; then
    if [ -x /usr/lib/postgresql/15/bin/postgres ]; then PG_VERSION=15; else PG_VERSION=$(newest_installed); fi
  fi
  if [ -n "$PG_VERSION" ] && [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] && command -v pg_createcluster >/dev/null; then
    return
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  local packages
  if [ -n "$PG_VERSION" ]; then
    packages="postgresql-$PG_VERSION postgresql-client-$PG_VERSION"
  elif apt-cache show postgresql-15 >/dev/null 2>&1; then
    PG_VERSION=15
    packages="postgresql-15 postgresql-client-15"
  else
    packages="postgresql postgresql-client"
  fi
  say "installing $packages"
  # Debian's post-install script tries to start a default cluster through systemd; without
  # systemd that fails harmlessly, and the "main" cluster is not needed here.
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages postgresql-common
  [ -n "$PG_VERSION" ] || PG_VERSION=$(newest_installed)
  [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] || die "PostgreSQL $PG_VERSION did not install"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cluster_exists() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VERSION" -v n="$1" '$1==v && $2==n {f=1} END {exit !f}'; }
cluster_online() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VERSION" -v n="$1" '$1==v && $2==n && $4 ~ /online/ {f=1} END {exit !f}'; }
cluster_port() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VERSION" -v n="$1" '$1==v && $2==n {print $3}'; }

# ensure_cluster NAME PORT EXTRA_SETTINGS
ensure_cluster() {
  local name=$1 port=$2 extra=$3
  if ! cluster_exists "$name"; then
    if port_in_use "$port"; then
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
    "# A subscriber starts its next apply or table-sync worker at most this often (5s by default):" \
    "# tests that subscribe one after another would otherwise wait out the default each time." \
    "wal_retrieve_retry_interval = '200ms'" \
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
  as_root runuser -u postgres -- psql -X -q -p "$port" -v ON_ERROR_STOP=1 -d postgres <<'SQL'
\getenv user FERRY_PG_USER
\getenv password FERRY_PG_PASSWORD
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN SUPERUSER PASSWORD %L', :'user', :'password') \gexec
SQL
  say "$name is up: postgres://$PG_USER:***@127.0.0.1:$port/postgres"
}

# The run ledger's database for ./ferry dev and ./ferry demo (the API migrates its schema).
ensure_ledger_database() {
  as_root runuser -u postgres -- psql -X -q -p "$TARGET_PORT" -v ON_ERROR_STOP=1 -d postgres <<'SQL'
\getenv user FERRY_PG_USER
SELECT format('CREATE DATABASE ferry_ledger OWNER %I', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ferry_ledger') \gexec
SQL
}

[ -n "$PG_VERSION" ] || PG_VERSION=$( [ -x /usr/lib/postgresql/15/bin/postgres ] && echo 15 || newest_installed )

case "${1:-start}" in
  start)
    install_postgres
    ensure_cluster heroku "$SOURCE_PORT" "wal_level = logical"
    ensure_cluster rds "$TARGET_PORT" ""
    ensure_ledger_database
    ;;
  stop)
    for c in heroku rds; do
      if cluster_online "$c"; then as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$c" stop; fi
    done
    ;;
  status)
    pg_lsclusters
    ;;
  drop)
    for c in heroku rds; do
      if cluster_exists "$c"; then as_root pg_dropcluster --stop "$PG_VERSION" "$c"; fi
    done
    ;;
  *)
    die "usage: $0 [start|stop|status|drop]"
    ;;
esac
