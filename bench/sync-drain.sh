#!/usr/bin/env bash
# Times the sync's drain (with large objects) under live pgbench load, and the sync's apply
# throughput, with Ferry's sync activities as the worker wires them (dev.ferry.bench.
# SyncDrainBench in the activities test-jar). Its "write-downtime" stops before the verify and
# without the workflow, the worker or the app: it is not what the app feels (that is
# bench/cutover-downtime.sh, through the real stack), only the activities' share of it.
#
#   1. pgbench -i -s SCALE --foreign-keys on the source (pgbench_history gets a bigserial
#      primary key: the trigger method refuses tables without one), an empty target;
#   2. pgbench -R RATE runs against the source from here on (tpcb-like: 4 changed rows a
#      transaction);
#   3. start the sync (capture + initial copy under load); stop applying for --backlog seconds
#      and time the catch-up (apply throughput); apply for --steady seconds more;
#   4. freeze the source (the downtime starts: pgbench's sessions are ended), stop applying,
#      drain, sync sequences (the downtime ends), verify.
#
# Zero lost transactions: pgbench's committed transactions ("number of transactions actually
# processed") are counted against pgbench_history's rows on the target (one row each).
#
# With --large-objects N, N large objects of 8 kB are made on the source before the sync; 1 % of
# them change, 10 are created and 10 removed just before the freeze (the drain carries them).
#
# Usage: bench/sync-drain.sh [--scale 100] [--rate 200] [--clients 4] [--jobs 2]
#                                  [--steady 30] [--backlog 20] [--method trigger]
#                                  [--large-objects 0] [--skip-build]
#
# Needs the local clusters (./ferry postgres start): source 127.0.0.1:5433, target
# 127.0.0.1:5434, superuser ferry; the password comes from FERRY_PG_PASSWORD (default the
# published dev one) through PGPASSWORD and the JVM's environment, never a command line.
# Creates databases bench_drain_*_<pid> on both clusters and drops them on exit.
set -euo pipefail

SCALE=100
RATE=200
CLIENTS=4
JOBS=2
STEADY=30
BACKLOG=20
METHOD=trigger
LARGE_OBJECTS=0
BUILD=yes
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --steady) STEADY=$2; shift 2 ;;
    --backlog) BACKLOG=$2; shift 2 ;;
    --method) METHOD=$2; shift 2 ;;
    --large-objects) LARGE_OBJECTS=$2; shift 2 ;;
    --skip-build) BUILD=no; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
  esac
done
for v in SCALE RATE CLIENTS JOBS STEADY BACKLOG; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "--${v,,} must be a number >= 1" >&2; exit 2; }
done
[[ $LARGE_OBJECTS =~ ^[0-9]+$ ]] || { echo "--large-objects must be a number >= 0" >&2; exit 2; }
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
SOURCE_DB=bench_drain_src_$TAG
TARGET_DB=bench_drain_dst_$TAG
WORK=$(mktemp -d /var/tmp/ferry-bench.XXXXXX)
PGBENCH_PID=

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" -c "$3"; }

cleanup() {
  local status=$?
  set +e
  [ -z "$PGBENCH_PID" ] || kill "$PGBENCH_PID" 2>/dev/null
  q "$SOURCE_PORT" postgres "DROP DATABASE IF EXISTS $SOURCE_DB WITH (FORCE)" >/dev/null 2>&1
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $TARGET_DB WITH (FORCE)" >/dev/null 2>&1
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

say "generating $SOURCE_DB: pgbench -i -s $SCALE --foreign-keys"
q "$SOURCE_PORT" postgres "CREATE DATABASE $SOURCE_DB"
q "$TARGET_PORT" postgres "CREATE DATABASE $TARGET_DB"
pgbench -i -q -s "$SCALE" --foreign-keys -p "$SOURCE_PORT" "$SOURCE_DB" >"$WORK/pgbench-init.log" 2>&1 \
  || { cat "$WORK/pgbench-init.log" >&2; exit 1; }
q "$SOURCE_PORT" "$SOURCE_DB" "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY"
if [ "$LARGE_OBJECTS" -gt 0 ]; then
  q "$SOURCE_PORT" "$SOURCE_DB" \
    "SELECT count(lo_from_bytea(0, convert_to(repeat(md5(g::text), 256), 'UTF8'))) FROM generate_series(1, $LARGE_OBJECTS) g" >/dev/null
fi
q "$SOURCE_PORT" "$SOURCE_DB" "VACUUM ANALYZE"
say "source: $(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))")"

say "pgbench -R $RATE -c $CLIENTS against the source, until the freeze ends its sessions"
PGAPPNAME=pgbench pgbench -n -R "$RATE" -c "$CLIENTS" -j 2 -T 36000 -p "$SOURCE_PORT" "$SOURCE_DB" >"$WORK/pgbench-run.log" 2>&1 &
PGBENCH_PID=$!

say "running the sync and the cutover ($METHOD, jobs $JOBS, backlog ${BACKLOG}s, steady ${STEADY}s)"
BENCH_SOURCE_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$SOURCE_PORT/$SOURCE_DB" \
BENCH_TARGET_URL="postgres://$PG_USER:$PGPASSWORD@$HOST:$TARGET_PORT/$TARGET_DB" \
  java -cp "$CLASSPATH_BENCH" -Dlogback.configurationFile=/dev/null dev.ferry.bench.SyncDrainBench \
    --method "$METHOD" --jobs "$JOBS" --work-dir "$WORK" --steady "$STEADY" --backlog "$BACKLOG" \
    --large-objects "$LARGE_OBJECTS" \
    >"$WORK/bench.out" 2>"$WORK/bench.err" || { cat "$WORK/bench.err" >&2; exit 1; }

# The freeze ended pgbench's sessions (it spares only the sync's own, named ferry-sync-*);
# it reports what it committed before that.
wait "$PGBENCH_PID" || true
PGBENCH_PID=
committed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench-run.log")
on_source=$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT count(*) FROM pgbench_history")
on_target=$(q "$TARGET_PORT" "$TARGET_DB" "SELECT count(*) FROM pgbench_history")

echo "# bench/sync-drain.sh --scale $SCALE --rate $RATE --clients $CLIENTS --jobs $JOBS --steady $STEADY --backlog $BACKLOG --method $METHOD --large-objects $LARGE_OBJECTS"
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
grep -E '^[a-z][a-z_.-]* -?[0-9.]+$' "$WORK/bench.out"
echo "pgbench.committed ${committed:-unknown}"
echo "pgbench_history.source $on_source"
echo "pgbench_history.target $on_target"
if [ "${committed:-x}" = "$on_target" ] && [ "$on_source" = "$on_target" ]; then
  echo "lost.transactions 0"
else
  echo "lost.transactions MISMATCH (committed ${committed:-?}, source $on_source, target $on_target)"
  grep -E "aborted|error" "$WORK/pgbench-run.log" | head -5 >&2
  exit 1
fi
