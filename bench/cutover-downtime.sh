#!/usr/bin/env bash
# The write downtime of a multi-phase cutover as the app feels it, through the real stack: the
# Temporal server (temporal server start-dev), Ferry's worker and API as separate processes (the
# jars and configuration ./ferry dev runs), on ports of their own; an app writing through the
# cutover and pgbench load on the source. Per method:
#
#   1. a fresh target, a fresh ledger; the stack started; pgbench -R RATE against the source;
#   2. dev.ferry.bench.CutoverDowntimeBench (activities test-jar): an app writing --app-rate rows
#      a second into bench_app on the source; a multi-phase run started through the API and its
#      start gate approved; at the cutover gate (sync caught up, pre-verification's first pass
#      done) --steady seconds more, then approval;
#   3. the clock: from the app's first refused write on the source to its first write accepted
#      on the target, which it makes once the run's status shows the step verify done;
#   4. decommission approved; every row the app committed on the source must be on the target,
#      and pgbench's transactions too (pgbench_history, one row each).
#
# The source is made once (pgbench -i -s SCALE --foreign-keys, pgbench_history with a key, the
# app's table) and serves every method in turn, unfrozen between them.
#
# Usage: bench/cutover-downtime.sh [--scale 35] [--rate 200] [--clients 4] [--methods trigger,logical]
#                                  [--steady 30] [--app-rate 100] [--share 0.5] [--skip-build]
#
# --share is the worker's FERRY_PREVERIFY_SHARE: the pre-verification's throttle while the sync runs
# (the worker's default is 0.1; bench/preverify-cost.sh measures what it costs). It paces the
# first pass, which the cutover gate waits for, not the freeze.
#
# Needs the local clusters (./ferry postgres start; this script never starts or restarts them),
# FERRY_TEMPORAL_BIN or a temporal on PATH (server >= 1.29). Ports (none of them the defaults):
# FERRY_BENCH_TEMPORAL_PORT (37233; +2, +10, +1000 for metrics, HTTP and UI), FERRY_BENCH_API_PORT
# (38080, admin +1). Creates bench_cut_*_<pid> databases on both clusters and drops them on exit.
set -euo pipefail

SCALE=35
RATE=200
SHARE=0.5
CLIENTS=4
METHODS=trigger,logical
STEADY=30
APP_RATE=100
BUILD=yes
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --steady) STEADY=$2; shift 2 ;;
    --app-rate) APP_RATE=$2; shift 2 ;;
    --share) SHARE=$2; shift 2 ;;
    --skip-build) BUILD=no; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
  esac
done
for v in SCALE RATE CLIENTS STEADY APP_RATE; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || { echo "--${v,,} must be a number >= 1" >&2; exit 2; }
done
IFS=, read -r -a METHOD_LIST <<<"$METHODS"
for m in "${METHOD_LIST[@]}"; do
  [[ $m == trigger || $m == logical ]] || { echo "--methods: trigger or logical, not $m" >&2; exit 2; }
done

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
TEMPORAL_BIN=${FERRY_TEMPORAL_BIN:-$(command -v temporal || true)}
[ -x "$TEMPORAL_BIN" ] || { echo "no Temporal CLI: set FERRY_TEMPORAL_BIN (./ferry obtains one: .ferry/bin/temporal)" >&2; exit 1; }
TEMPORAL_PORT=${FERRY_BENCH_TEMPORAL_PORT:-37233}
API_PORT=${FERRY_BENCH_API_PORT:-38080}
PORTS=("$TEMPORAL_PORT" "$((TEMPORAL_PORT + 1000))" "$((TEMPORAL_PORT + 2))" "$((TEMPORAL_PORT + 10))" "$API_PORT" "$((API_PORT + 1))")

TAG=$$
SOURCE_DB=bench_cut_src_$TAG
TARGET_DB=bench_cut_dst_$TAG
LEDGER_DB=bench_cut_ledger_$TAG
WORK=$(mktemp -d /var/tmp/ferry-bench.XXXXXX)
PGBENCH_PID= TEMPORAL_PID= WORKER_PID= API_PID= LOAD_PID=

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" -c "$3"; }
url() { printf 'postgres://%s:%s@%s:%s/%s' "$PG_USER" "$PGPASSWORD" "$HOST" "$1" "$2"; }

stack_stop() {
  local pid
  for pid in $API_PID $WORKER_PID; do kill "$pid" 2>/dev/null || true; done
  for pid in $API_PID $WORKER_PID; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "$TEMPORAL_PID" ]; then kill "$TEMPORAL_PID" 2>/dev/null || true; wait "$TEMPORAL_PID" 2>/dev/null || true; fi
  API_PID= WORKER_PID= TEMPORAL_PID=
}

cleanup() {
  local status=$?
  set +e
  [ -z "$PGBENCH_PID" ] || kill "$PGBENCH_PID" 2>/dev/null
  [ -z "$LOAD_PID" ] || kill "$LOAD_PID" 2>/dev/null
  stack_stop
  q "$SOURCE_PORT" postgres "DROP DATABASE IF EXISTS $SOURCE_DB WITH (FORCE)" >/dev/null 2>&1
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $TARGET_DB WITH (FORCE)" >/dev/null 2>&1
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $LEDGER_DB WITH (FORCE)" >/dev/null 2>&1
  if [ $status -ne 0 ] || [ -n "${FERRY_BENCH_KEEP:-}" ]; then
    echo "--- logs kept in $WORK (FERRY_BENCH_KEEP, or a failure); the worker's last lines:" >&2
    tail -n 30 "$WORK/worker.log" >&2 2>/dev/null
  else
    rm -rf "$WORK"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$SOURCE_PORT" "$TARGET_PORT"; do
  pg_isready -q -h "$HOST" -p "$port" || { echo "no PostgreSQL on $HOST:$port: run ./ferry postgres start" >&2; exit 1; }
done
for port in "${PORTS[@]}"; do
  ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "port $port is in use: move the bench (FERRY_BENCH_TEMPORAL_PORT, FERRY_BENCH_API_PORT)" >&2; exit 1; }
done
if [ "$BUILD" = yes ]; then
  say "building the jars and the activities' test classes (mvn package)"
  # One reactor build: the jars, and each module's classpath (the activities' is the bench's).
  (cd "$ROOT" && mvn -B -q -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/bench.classpath) \
    >"$WORK/mvn.log" 2>&1 || { cat "$WORK/mvn.log" >&2; exit 1; }
fi
[ -f "$ROOT/activities/target/bench.classpath" ] || { echo "not built: run without --skip-build" >&2; exit 1; }
CLASSPATH_BENCH="$ROOT/activities/target/test-classes:$ROOT/activities/target/classes:$(cat "$ROOT/activities/target/bench.classpath")"

# The machine's load, every 10 s, for the report.
(while true; do echo "$(date +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 10; done) >"$WORK/load.log" &
LOAD_PID=$!

say "generating $SOURCE_DB: pgbench -i -s $SCALE --foreign-keys, and the app's table"
q "$SOURCE_PORT" postgres "CREATE DATABASE $SOURCE_DB"
pgbench -i -q -s "$SCALE" --foreign-keys -p "$SOURCE_PORT" "$SOURCE_DB" >"$WORK/pgbench-init.log" 2>&1 \
  || { cat "$WORK/pgbench-init.log" >&2; exit 1; }
q "$SOURCE_PORT" "$SOURCE_DB" "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY"
q "$SOURCE_PORT" "$SOURCE_DB" "CREATE TABLE bench_app (id bigserial PRIMARY KEY, origin text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)"
q "$SOURCE_PORT" "$SOURCE_DB" "VACUUM ANALYZE"
SOURCE_SIZE=$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))")
say "source: $SOURCE_SIZE"

export BENCH_SOURCE_URL BENCH_TARGET_URL
BENCH_SOURCE_URL=$(url "$SOURCE_PORT" "$SOURCE_DB")
BENCH_TARGET_URL=$(url "$TARGET_PORT" "$TARGET_DB")

stack_start() {
  # What ./ferry dev starts (stack_start), with the bench's ports, state and ledger.
  local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$((TEMPORAL_PORT + 1000))" --headless
              --http-port "$((TEMPORAL_PORT + 10))" --metrics-port "$((TEMPORAL_PORT + 2))"
              --db-filename "$WORK/temporal.db" --log-level warn)
  local a
  for a in FerryApp FerryKind FerryStrategy FerryPhase; do args+=(--search-attribute "$a=Keyword"); done
  "$TEMPORAL_BIN" "${args[@]}" >>"$WORK/temporal.log" 2>&1 &
  TEMPORAL_PID=$!
  for _ in $(seq 1 300); do
    "$TEMPORAL_BIN" operator namespace describe --namespace default --address "127.0.0.1:$TEMPORAL_PORT" >/dev/null 2>&1 && break
    sleep 0.2
  done
  export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT" TEMPORAL_NAMESPACE=default
  export FERRY_LEDGER_URL FERRY_WORK_DIR="$WORK/work" FERRY_API_PORT=$API_PORT FERRY_ADMIN_PORT=$((API_PORT + 1))
  FERRY_LEDGER_URL=$(url "$TARGET_PORT" "$LEDGER_DB")
  export FERRY_PAYLOAD_KEY FERRY_APPROVAL_KEY FERRY_PREVERIFY_SHARE=$SHARE
  FERRY_PAYLOAD_KEY=$(openssl rand -base64 32)
  # The worker and the API refuse to start without an approval key (the API signs the bench's
  # approvals with it), and the worker resolves only the references its allow-list names.
  FERRY_APPROVAL_KEY=$(openssl rand -base64 32)
  export FERRY_SECRET_REFS=env:BENCH_SOURCE_URL,env:BENCH_TARGET_URL
  java -jar "$ROOT/worker/target/ferry-worker.jar" worker >>"$WORK/worker.log" 2>&1 &
  WORKER_PID=$!
  java -jar "$ROOT/api/target/ferry-api.jar" server "$ROOT/api/config/dev.yml" >>"$WORK/api.log" 2>&1 &
  API_PID=$!
  FERRY_API="http://127.0.0.1:$API_PORT" java -cp "$ROOT/api/target/ferry-api.jar" dev.ferry.api.cli.FerryCli wait-ready 180 >&2 \
    || { tail -n 20 "$WORK/worker.log" "$WORK/api.log" >&2; exit 1; }
}

echo "# bench/cutover-downtime.sh --scale $SCALE --rate $RATE --clients $CLIENTS --methods $METHODS --steady $STEADY --app-rate $APP_RATE --share $SHARE"
echo "# $(nproc) cores, $(date -u +%FT%TZ), source $SOURCE_SIZE, at commit $(cd "$ROOT" && git rev-parse --short HEAD)"
for method in "${METHOD_LIST[@]}"; do
  say "--- $method: a fresh target and ledger, the stack on :$TEMPORAL_PORT and :$API_PORT"
  q "$SOURCE_PORT" postgres "ALTER DATABASE $SOURCE_DB RESET default_transaction_read_only"
  # A succeeded run leaves its source frozen, write fence included (README: The freeze and its
  # write fence): reopen it by hand, as the README says, for the next method.
  q "$SOURCE_PORT" "$SOURCE_DB" "DROP EVENT TRIGGER IF EXISTS ferry_write_fence_ddl"
  q "$SOURCE_PORT" "$SOURCE_DB" "DROP SCHEMA IF EXISTS ferry_fence CASCADE"
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $TARGET_DB WITH (FORCE)"
  q "$TARGET_PORT" postgres "DROP DATABASE IF EXISTS $LEDGER_DB WITH (FORCE)"
  q "$TARGET_PORT" postgres "CREATE DATABASE $TARGET_DB"
  q "$TARGET_PORT" postgres "CREATE DATABASE $LEDGER_DB"
  rm -f "$WORK/temporal.db"
  stack_start

  say "pgbench -R $RATE -c $CLIENTS against the source, until the freeze ends its sessions"
  PGAPPNAME=pgbench pgbench -n -R "$RATE" -c "$CLIENTS" -j 2 -T 36000 -p "$SOURCE_PORT" "$SOURCE_DB" >"$WORK/pgbench-$method.log" 2>&1 &
  PGBENCH_PID=$!
  echo "# $method, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  java -cp "$CLASSPATH_BENCH" -Dlogback.configurationFile=/dev/null dev.ferry.bench.CutoverDowntimeBench \
    --api "http://127.0.0.1:$API_PORT" --method "$method" --steady "$STEADY" --app-rate "$APP_RATE" --app "bench-$method-$TAG" \
    >"$WORK/bench-$method.out" 2>"$WORK/bench-$method.err" || { cat "$WORK/bench-$method.err" >&2; exit 1; }
  echo "# $method, load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  # Where the downtime went, from the run's history (event times are not encrypted): each
  # activity from the freeze on, queued (scheduled to started) and running (started to done).
  run_id=$(sed -n 's/^# run //p' "$WORK/bench-$method.out")
  "$TEMPORAL_BIN" workflow show --workflow-id "$run_id" --address "127.0.0.1:$TEMPORAL_PORT" --output json >"$WORK/history-$method.json" 2>/dev/null \
    && python3 "$ROOT/bench/downtime-breakdown.py" "$WORK/history-$method.json" | sed "s/^/$method /" || true
  # The freeze ended pgbench's sessions (it spares only the sync's own); it reports what it committed.
  wait "$PGBENCH_PID" || true
  PGBENCH_PID=
  committed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench-$method.log")
  on_source=$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT count(*) FROM pgbench_history")
  on_target=$(q "$TARGET_PORT" "$TARGET_DB" "SELECT count(*) FROM pgbench_history")
  sed "s/^/$method /" "$WORK/bench-$method.out"
  echo "$method pgbench.committed ${committed:-unknown}"
  echo "$method pgbench_history.source $on_source"
  echo "$method pgbench_history.target $on_target"
  # pgbench counts the commits it saw acknowledged; one cut off mid-acknowledgement may be on both sides.
  if [ "$on_source" = "$on_target" ] && [ "${committed:-0}" -le "$on_target" ]; then
    echo "$method pgbench.lost 0"
  else
    echo "$method pgbench.lost MISMATCH (committed ${committed:-?}, source $on_source, target $on_target)"
    exit 1
  fi
  stack_stop
done
echo "# load (1/5/15 min) during the bench:"
sed 's/^/#   /' "$WORK/load.log"
