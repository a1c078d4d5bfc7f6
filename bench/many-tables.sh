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
#                             [--strategies single-phase,multi-phase] [--minutes 30] [--skip-build]
#
# Needs the local clusters (./ferry postgres start) and the Temporal CLI (FERRY_TEMPORAL_BIN, or
# the project's .ferry/bin/temporal: ./ferry temporal-bin). The password comes from
# FERRY_PG_PASSWORD (default the published dev one) through PGPASSWORD and the JVM's environment,
# never a command line. Creates databases bench_many_*_<pid> and drops them on exit.
set -euo pipefail

SCHEMAS=500
TABLES=20
ROWS=3
JOBS=2
STRATEGIES=single-phase,multi-phase
MINUTES=30
BUILD=yes
while [ $# -gt 0 ]; do
  case $1 in
    --schemas) SCHEMAS=$2; shift 2 ;;
    --tables) TABLES=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --strategies) STRATEGIES=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --skip-build) BUILD=no; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
