#!/usr/bin/env bash
# Issue 15's 10,000 tables: a schema-per-tenant source (500 schemas × 20 tables by default, each
# table with a bigserial key, so a sequence, a foreign key to another table of its schema, and 3
# rows) migrated with both strategies through the real workflow and activities on a real
# Temporal server (dev.ferry.bench.ManyTablesBench in the activities test-jar; the suite runs
# the same at 120 and 600 tables: ManyTablesMigrationTest). Prints, per strategy, the run's time,
# the largest payload of its history, heartbeats and status queries, and its history's length
# and size as the server counts them.
#
#   1. generate the source once (dev.ferry.testing.postgres.TenantSchemas, through psql) into a
#      template database on the source cluster;
#   2. per strategy, in the order given: a fresh copy of the template as the source, an empty
#      target, a ledger; the migration with every gate approved as it opens; drop them.
#
# Usage: bench/many-tables.sh [--schemas 500] [--tables 20] [--rows 3] [--jobs 2]
#                             [--strategies single-phase,multi-phase] [--minutes 30]
#                             [--private-clusters] [--skip-build]
#
# PostgreSQL's lock table must hold a lock on every table at once (pg_dump takes them all in one
# transaction; so do the freeze's fence and the trigger capture): max_locks_per_transaction ×
# (max_connections + max_prepared_transactions) above the table count, with room for the other
# sessions. The shared dev clusters (64 × 200) do not hold 10,000 tables: with
# --private-clusters the bench runs on two clusters of its own (initdb in /var/tmp, ports 55433
# and 55434 unless FERRY_BENCH_PG_PORTS="S T", max_locks_per_transaction sized for the tables,
# wal_level=logical, otherwise set as worker/dev/postgres-clusters.sh sets the dev clusters:
# fsync, synchronous_commit and full_page_writes off), removed on exit.
#
# Needs the local clusters (./ferry postgres start) unless --private-clusters, and the Temporal
# CLI (FERRY_TEMPORAL_BIN, or the project's .ferry/bin/temporal: ./ferry temporal-bin). The
# password comes from FERRY_PG_PASSWORD (default the published dev one) through PGPASSWORD and
# the JVM's environment, never a command line. Creates databases bench_many_*_<pid> and drops
# them on exit.
set -euo pipefail

SCHEMAS=500
TABLES=20
ROWS=3
JOBS=2
STRATEGIES=single-phase,multi-phase
MINUTES=30
PRIVATE=no
BUILD=yes
while [ $# -gt 0 ]; do
  case $1 in
    --schemas) SCHEMAS=$2; shift 2 ;;
    --tables) TABLES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --strategies) STRATEGIES=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --private-clusters) PRIVATE=yes; shift ;;
    --skip-build) BUILD=no; shift ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
  esac
done
for v in SCHEMAS TABLES ROWS JOBS MINUTES; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "--${v,,} must be a number >= 1" >&2; exit 2; }
done
IFS=, read -r -a STRATEGY_LIST <<<"$STRATEGIES"
for s in "${STRATEGY_LIST[@]}"; do
  [[ $s == single-phase || $s == multi-phase ]] || { echo "--strategies: single-phase and/or multi-phase, not $s" >&2; exit 2; }
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOST=127.0.0.1
SOURCE_PORT=${FERRY_PG_SOURCE_PORT:-5433}
TARGET_PORT=${FERRY_PG_TARGET_PORT:-5434}
PG_USER=${FERRY_PG_USER:-ferry}
export PGPASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}
export PGHOST=$HOST PGUSER=$PG_USER PGAPPNAME=ferry-bench
PG_BIN=${FERRY_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/psql" ] || { echo "no psql in $PG_BIN (set FERRY_PG_BIN)" >&2; exit 1; }
export PATH="$PG_BIN:$PATH"
export FERRY_TEMPORAL_BIN=${FERRY_TEMPORAL_BIN:-$ROOT/.ferry/bin/temporal}
[ -x "$FERRY_TEMPORAL_BIN" ] || { echo "no Temporal CLI at $FERRY_TEMPORAL_BIN: run ./ferry temporal-bin or set FERRY_TEMPORAL_BIN" >&2; exit 1; }

TAG=$$
TEMPLATE_DB=bench_many_tpl_$TAG
SOURCE_DB=bench_many_src_$TAG
TARGET_DB=bench_many_dst_$TAG
LEDGER_DB=bench_many_ledger_$TAG
WORK=$(mktemp -d /var/tmp/ferry-bench.XXXXXX)

PRIVATE_DIR=

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" -c "$3"; }
drop_run_databases() {
  q "$SOURCE_PORT" postgres "DROP DATABASE IF EXISTS $SOURCE_DB WITH (FORCE)" >/dev/null 2>&1
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $TARGET_DB WITH (FORCE)" >/dev/null 2>&1
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $LEDGER_DB WITH (FORCE)" >/dev/null 2>&1
}

cleanup() {
  local status=$?
  set +e
  drop_run_databases
  q "$SOURCE_PORT" postgres "DROP DATABASE IF EXISTS $TEMPLATE_DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$WORK"
  if [ -n "$PRIVATE_DIR" ]; then
    for side in source target; do
      [ -f "$PRIVATE_DIR/$side/postmaster.pid" ] && su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PRIVATE_DIR/$side -m fast -w stop" >/dev/null 2>&1
    done
    rm -rf "$PRIVATE_DIR"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$PRIVATE" = yes ]; then
  [ "$(id -u)" -eq 0 ] || { echo "--private-clusters runs initdb as the postgres user: run as root" >&2; exit 1; }
  read -r SOURCE_PORT TARGET_PORT <<<"${FERRY_BENCH_PG_PORTS:-55433 55434}"
  LOCKS=$(( SCHEMAS * TABLES * 4 / 200 ))
  [ "$LOCKS" -ge 64 ] || LOCKS=64
  PRIVATE_DIR=$(mktemp -d /var/tmp/ferry-bench-pg.XXXXXX)
  chown postgres "$PRIVATE_DIR"
  printf '%s\n' "$PGPASSWORD" >"$PRIVATE_DIR/pw" && chown postgres "$PRIVATE_DIR/pw" && chmod 600 "$PRIVATE_DIR/pw"
  for side in source target; do
    port=$SOURCE_PORT; [ $side = target ] && port=$TARGET_PORT
    su postgres -s /bin/sh -c "$PG_BIN/initdb -D $PRIVATE_DIR/$side -U $PG_USER --pwfile=$PRIVATE_DIR/pw --auth-local=trust --auth-host=scram-sha-256" >"$WORK/initdb-$side.log" 2>&1 \
      || { cat "$WORK/initdb-$side.log" >&2; exit 1; }
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PRIVATE_DIR/$side -l $PRIVATE_DIR/$side.log -w start -o '-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PRIVATE_DIR -c max_locks_per_transaction=$LOCKS -c wal_level=logical -c max_connections=200 -c shared_buffers=128MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off'" >/dev/null \
      || { cat "$PRIVATE_DIR/$side.log" >&2; exit 1; }
  done
  say "private clusters on $SOURCE_PORT and $TARGET_PORT, max_locks_per_transaction $LOCKS (otherwise set as the dev clusters: fsync off)"
fi
for port in "$SOURCE_PORT" "$TARGET_PORT"; do
  pg_isready -q -h "$HOST" -p "$port" || { echo "no PostgreSQL on $HOST:$port: run ./ferry postgres start" >&2; exit 1; }
done
if [ "$BUILD" = yes ]; then
  say "building the activities and their test-jar (mvn package -pl activities -am)"
  (cd "$ROOT" && mvn -B -q -DskipTests package -pl activities -am \
    dependency:build-classpath -Dmdep.outputFile=target/bench.classpath) >"$WORK/mvn.log" 2>&1 \
    || { cat "$WORK/mvn.log" >&2; exit 1; }
fi
[ -f "$ROOT/activities/target/bench.classpath" ] || { echo "not built: run without --skip-build" >&2; exit 1; }
CLASSPATH_BENCH="$ROOT/activities/target/test-classes:$ROOT/activities/target/classes:$(cat "$ROOT/activities/target/bench.classpath")"

say "generating $TEMPLATE_DB: $SCHEMAS schemas × $TABLES tables × $ROWS rows"
java -cp "$CLASSPATH_BENCH" dev.ferry.testing.postgres.TenantSchemas --schemas "$SCHEMAS" --tables "$TABLES" --rows "$ROWS" >"$WORK/tenants.sql"
q "$SOURCE_PORT" postgres "CREATE DATABASE $TEMPLATE_DB"
g0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -p "$SOURCE_PORT" -d "$TEMPLATE_DB" -f "$WORK/tenants.sql" >"$WORK/generate.log" 2>&1 \
  || { tail -5 "$WORK/generate.log" >&2; exit 1; }
g1=$(date +%s.%N)
tables=$(q "$SOURCE_PORT" "$TEMPLATE_DB" "SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'tenant\_%'")
say "source: $tables tables, $(q "$SOURCE_PORT" "$TEMPLATE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))"), generated in $(echo "$g1 - $g0" | bc) s"

echo "# bench/many-tables.sh --schemas $SCHEMAS --tables $TABLES --rows $ROWS --jobs $JOBS --strategies $STRATEGIES"
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "# clusters: source $SOURCE_PORT, target $TARGET_PORT, max_locks_per_transaction $(q "$SOURCE_PORT" postgres "SHOW max_locks_per_transaction") × max_connections $(q "$SOURCE_PORT" postgres "SHOW max_connections")$([ "$PRIVATE" = yes ] && echo ' (private)')"
echo "source.tables $tables"
failed=0
for strategy in "${STRATEGY_LIST[@]}"; do
  drop_run_databases
  q "$SOURCE_PORT" postgres "CREATE DATABASE $SOURCE_DB TEMPLATE $TEMPLATE_DB"
  q "$TARGET_PORT" postgres "CREATE DATABASE $TARGET_DB"
  q "$TARGET_PORT" postgres "CREATE DATABASE $LEDGER_DB"
  say "migrating with $strategy (jobs $JOBS); load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $strategy: load before $(cut -d' ' -f1-3 /proc/loadavg)"
  mkdir -p "$WORK/$strategy"
  if (cd "$WORK/$strategy" && \
      BENCH_SOURCE_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$SOURCE_PORT/$SOURCE_DB" \
      BENCH_TARGET_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$TARGET_PORT/$TARGET_DB" \
      BENCH_LEDGER_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$TARGET_PORT/$LEDGER_DB" \
      java -cp "$CLASSPATH_BENCH" -Dlogback.configurationFile=/dev/null dev.ferry.bench.ManyTablesBench \
        --strategy "$strategy" --jobs "$JOBS" --work-dir "$WORK/$strategy" --minutes "$MINUTES" \
        >"$WORK/$strategy.out" 2>"$WORK/$strategy.err"); then
    :
  else
    failed=1
    say "$strategy failed:"; tail -20 "$WORK/$strategy.err" >&2
  fi
  grep -E '^[a-z][a-z_.:-]* ' "$WORK/$strategy.out" || true
  echo "# $strategy: load after $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$strategy.target_tables $(q "$TARGET_PORT" "$TARGET_DB" "SELECT count(*) FROM pg_tables WHERE schemaname LIKE 'tenant\_%'" 2>/dev/null || echo unknown)"
  echo "$strategy.ledger_table_comparisons $(q "$TARGET_PORT" "$LEDGER_DB" "SELECT count(*) FROM verification_objects WHERE kind = 'table'" 2>/dev/null || echo unknown)"
done
exit $failed
