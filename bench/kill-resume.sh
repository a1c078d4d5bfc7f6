#!/usr/bin/env bash
# A restore killed and resumed, against one left alone, on the same generated data:
#
#   single-phase runs of a ~--size-mb source through the real Temporal server (temporal server
#   start-dev), the API and worker processes (java -jar), approved at once; in one run of each
#   pair the worker is SIGKILLed while pg_restore has copied --kill-at of the biggest table
#   (pgbench_accounts, by pg_stat_progress_copy), and a new worker process is started at once.
#
# Prints per run: the whole run (POST to SUCCEEDED), the restore step, and for a killed run the
# seconds from the kill to the restore's next attempt heartbeating on the new worker; then the
# means and the extra time a kill cost. dev.ferry.bench.KillResumeBench in the worker's test
# classes does the runs (with the harness the kill tests use); this script makes the data.
#
# Usage: bench/kill-resume.sh [--size-mb 1000] [--heartbeat 1m] [--rounds 1] [--jobs 2] [--kill-at 0.5] [--skip-build]
#   --heartbeat D   the workers' FERRY_HEARTBEAT_TIMEOUT (default 1m, Ferry's default; at least 5s)
#   --rounds R      pairs of runs, the order alternating (default 1)
#
# Needs the local clusters (./ferry postgres start), Maven and Java, and the Temporal CLI that
# ./ferry obtains (./ferry temporal --version, or FERRY_TEMPORAL_BIN). Creates databases named
# bench_kr_*  on both clusters and a work directory under /var/tmp; removes them on exit. The
# processes listen on free ports only.
set -euo pipefail

SIZE_MB=1000
HEARTBEAT=1m
ROUNDS=1
JOBS=2
KILL_AT=0.5
BUILD=yes
while [ $# -gt 0 ]; do
  case $1 in
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --heartbeat) HEARTBEAT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --kill-at) KILL_AT=$2; shift 2 ;;
    --skip-build) BUILD=no; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
  esac
done
[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -ge 50 ]] || { echo "--size-mb must be a number >= 50" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCE_PORT=${FERRY_PG_SOURCE_PORT:-5433}
export PGPASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}
export PGHOST=127.0.0.1 PGUSER=${FERRY_PG_USER:-ferry} PGAPPNAME=ferry-bench
PG_BIN=${FERRY_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
export PATH="$PG_BIN:$PATH"

TEMPLATE=bench_kr_gen_$$
WORK=$(mktemp -d /var/tmp/ferry-kill-resume.XXXXXX)
say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" -c "$3"; }

cleanup() {
  local status=$?
  set +e
  q "$SOURCE_PORT" postgres "DROP DATABASE IF EXISTS $TEMPLATE WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${FERRY_TEMPORAL_BIN:-}" ]; then
  "$ROOT/ferry" temporal --version >/dev/null
  export FERRY_TEMPORAL_BIN="$ROOT/.ferry/bin/temporal"
  [ -x "$FERRY_TEMPORAL_BIN" ] || FERRY_TEMPORAL_BIN=$(command -v temporal)
fi

if [ "$BUILD" = yes ]; then
  say "building the jars and the worker's test classes (mvn package -pl worker,api -am)"
  (cd "$ROOT" && mvn -B -q -DskipTests package -pl worker,api -am \
    dependency:build-classpath -Dmdep.outputFile=target/bench.classpath) >"$WORK/mvn.log" 2>&1 \
    || { cat "$WORK/mvn.log" >&2; exit 1; }
fi
[ -f "$ROOT/worker/target/bench.classpath" ] || { echo "not built: run without --skip-build" >&2; exit 1; }
CLASSPATH_BENCH="$ROOT/worker/target/test-classes:$ROOT/worker/target/classes:$(cat "$ROOT/worker/target/bench.classpath")"

SCALE=$(( SIZE_MB / 15 ))
say "generating $TEMPLATE: pgbench -i -s $SCALE --foreign-keys"
q "$SOURCE_PORT" postgres "CREATE DATABASE $TEMPLATE" >/dev/null
pgbench -i -q -s "$SCALE" --foreign-keys -p "$SOURCE_PORT" "$TEMPLATE" >"$WORK/pgbench.log" 2>&1 \
  || { cat "$WORK/pgbench.log" >&2; exit 1; }
q "$SOURCE_PORT" "$TEMPLATE" "ANALYZE"
say "source: $(q "$SOURCE_PORT" "$TEMPLATE" "SELECT pg_size_pretty(pg_database_size(current_database()))"), pgbench_accounts $(( SCALE * 100000 )) rows; load $(cut -d' ' -f1-3 /proc/loadavg)"

cd "$ROOT/worker"
java -cp "$CLASSPATH_BENCH" \
  -Dferry.workerJar="$ROOT/worker/target/ferry-worker.jar" -Dferry.apiJar="$ROOT/api/target/ferry-api.jar" -Dferry.repoRoot="$ROOT" \
  -Dlogback.configurationFile=/dev/null \
  dev.ferry.bench.KillResumeBench --source-template "$TEMPLATE" --table public.pgbench_accounts --table-rows $(( SCALE * 100000 )) \
  --heartbeat "$HEARTBEAT" --rounds "$ROUNDS" --jobs "$JOBS" --kill-at "$KILL_AT" --work-dir "$WORK/work"
say "done; load $(cut -d' ' -f1-3 /proc/loadavg)"
