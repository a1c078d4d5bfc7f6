#!/usr/bin/env bash
# What the pre-verification costs the source while it runs: pgbench's throughput (unthrottled,
# --clients sessions) against the source while the sync applies, without the pre-verification,
# with it proving chunks, and without again (A, B, A; --window seconds each), on a source of
# pgbench -i -s SCALE. The pre-verification runs with the worker's settings (its throttle); the
# first pass must still be under way at the end of B (the output says whether it was).
#
# Usage: bench/preverify-cost.sh [--scale 35] [--method trigger] [--window 60] [--clients 4] [--rounds 2]
#                                [--share F] [--skip-build]
# (--share: another throttle than the worker's default, to explore.)
#
# Needs the local clusters (./ferry postgres start). Creates bench_cost_*_<pid> databases on both
# clusters and drops them on exit.
set -euo pipefail

SCALE=35
METHOD=trigger
WINDOW=60
CLIENTS=4
ROUNDS=2
SHARE=
BUILD=yes
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --method) METHOD=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --share) SHARE=$2; shift 2 ;;
    --skip-build) BUILD=no; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
  esac
done
for v in SCALE WINDOW CLIENTS ROUNDS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "--${v,,} must be a number >= 1" >&2; exit 2; }
done
[[ $METHOD == trigger || $METHOD == logical ]] || { echo "--method must be trigger or logical" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOST=127.0.0.1
SOURCE_PORT=${FERRY_PG_SOURCE_PORT:-5433}
TARGET_PORT=${FERRY_PG_TARGET_PORT:-5434}
PG_USER=${FERRY_PG_USER:-ferry}
export PGPASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}
export PGHOST=$HOST PGUSER=$PG_USER PGAPPNAME=ferry-bench
PG_BIN=${FERRY_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/pgbench" ] || { echo "no pgbench in $PG_BIN (set FERRY_PG_BIN)" >&2; exit 1; }
export PATH="$PG_BIN:$PATH"

TAG=$$
SOURCE_DB=bench_cost_src_$TAG
TARGET_DB=bench_cost_dst_$TAG
WORK=$(mktemp -d /var/tmp/ferry-bench.XXXXXX)
LOAD_PID=

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" -c "$3"; }

cleanup() {
  local status=$?
  set +e
  [ -z "$LOAD_PID" ] || kill "$LOAD_PID" 2>/dev/null
  q "$SOURCE_PORT" postgres "DROP DATABASE IF EXISTS $SOURCE_DB WITH (FORCE)" >/dev/null 2>&1
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $TARGET_DB WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$BUILD" = yes ]; then
  say "building the activities and their test classes (mvn package -pl activities -am)"
  (cd "$ROOT" && mvn -B -q -DskipTests package -pl activities -am dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath) >"$WORK/mvn.log" 2>&1 || { cat "$WORK/mvn.log" >&2; exit 1; }
fi
CLASSPATH_BENCH="$ROOT/activities/target/test-classes:$ROOT/activities/target/classes:$(cat "$ROOT/activities/target/bench.classpath")"
(while true; do echo "$(date +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 10; done) >"$WORK/load.log" &
LOAD_PID=$!

say "generating $SOURCE_DB: pgbench -i -s $SCALE --foreign-keys"
q "$SOURCE_PORT" postgres "CREATE DATABASE $SOURCE_DB"
q "$TARGET_PORT" postgres "CREATE DATABASE $TARGET_DB"
pgbench -i -q -s "$SCALE" --foreign-keys -p "$SOURCE_PORT" "$SOURCE_DB" >"$WORK/pgbench-init.log" 2>&1 \
  || { cat "$WORK/pgbench-init.log" >&2; exit 1; }
q "$SOURCE_PORT" "$SOURCE_DB" "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY"
q "$SOURCE_PORT" "$SOURCE_DB" "VACUUM ANALYZE"
size=$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))")

say "sync ($METHOD), then pgbench ${WINDOW}s without, with and without the pre-verification"
echo "# bench/preverify-cost.sh --scale $SCALE --method $METHOD --window $WINDOW --clients $CLIENTS --rounds $ROUNDS ${SHARE:+--share $SHARE}"
echo "# $(nproc) cores, $(date -u +%FT%TZ), source $size, at commit $(cd "$ROOT" && git rev-parse --short HEAD)"
BENCH_SOURCE_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$SOURCE_PORT/$SOURCE_DB" \
BENCH_TARGET_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$TARGET_PORT/$TARGET_DB" \
  java -cp "$CLASSPATH_BENCH" -Dlogback.configurationFile=/dev/null dev.ferry.bench.PreverifyCostBench \
    --method "$METHOD" --work-dir "$WORK" --window "$WINDOW" --clients "$CLIENTS" --pgbench "$PG_BIN/pgbench" \
    --source-db "$SOURCE_DB" --source-port "$SOURCE_PORT" --rounds "$ROUNDS" ${SHARE:+--share "$SHARE"} 2>"$WORK/bench.err" \
    | grep -E '^[a-z][a-z0-9_.-]* -?[0-9.]+$' || { cat "$WORK/bench.err" >&2; exit 1; }
echo "# load (1/5/15 min) during the bench:"
sed 's/^/#   /' "$WORK/load.log"
