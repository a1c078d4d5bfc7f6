#!/usr/bin/env bash
# Times Ferry's two copy methods against the best plain tools on the same generated data, in one
# run, the order of the tools reversed every other round:
#
#   plain         pg_dump -Fd -j N  +  pg_restore -j N --exit-on-error --no-owner --no-privileges
#   ferry-dump    a single-phase MigrationWorkflow with snapshot.method: dump, on a real Temporal
#                 server (temporal server start-dev, started here) with a worker in the bench JVM
#                 (dev.ferry.bench.SinglePhaseCopyBench in the activities test-jar): its snapshot +
#                 restore against plain, and its freeze -> verified
#   ferry-stream  the same with snapshot.method: stream: freeze -> verified against pgcopydb
#   pgcopydb      pgcopydb clone --table-jobs N --index-jobs N --no-owner (verifies nothing)
#   ferry         (with --tools, not by default) the dump and restore activities alone under
#                 TestActivityEnvironment (dev.ferry.bench.SnapshotRestoreBench), as measured first
#
# and, as the baseline Ferry's verification must beat, one full sequential scan of every table
# on the source and on the restored target: SELECT count(*), then SELECT sum(hashtext(t::text)).
# Every copy is checked against the source (same row count and hash sum per table), so a tool
# that copied less is not reported as fast.
#
# The source is pgbench's schema (pgbench -i --foreign-keys) plus a table of ~1 KB rows (text
# and jsonb, with a secondary index), sized together to about --size-mb.
#
# Usage: bench/snapshot-restore.sh [--size-mb 1000] [--jobs 2] [--rounds 2] [--tools LIST] [--skip-build] [--verify]
#                                   [--source-db NAME] [--cpu]
#   --rounds R   run each tool R times, the order reversed every other round (default 2)
#   --tools L    comma-separated (default plain,ferry-dump,ferry-stream,pgcopydb)
#   --verify     with the ferry tool: also time its verification of its copy
#   --source-db  copy this existing database of the source cluster instead of generating one
#                (neither changed nor dropped; --size-mb is ignored)
#   --cpu        also print the CPU seconds each copy used, per kind of process (bench/cpu-sample.py)
#   --warm-up    ferry-dump/ferry-stream: the bench JVM first migrates a small database (30 MB) the
#                same way, untimed, as a worker that has copied before would have compiled its code
#   --warm-up-mb M  the same with a warm-up database of M MB (a worker that has copied more)
#   --settle     after the warm-up, wait until the JVM's JIT has compiled its backlog (its compile
#                time still for 2 s, at most a minute): a worker idle since a rehearsal, not one
#                still compiling what its warm-up made hot
#
# Needs the local clusters (./ferry postgres start): source 127.0.0.1:5433, target
# 127.0.0.1:5434, superuser ferry. The password comes from FERRY_PG_PASSWORD (default the
# published dev one) and reaches the tools through PGPASSWORD and the JVM's environment, never
# a command line. Creates databases named bench_*_<pid> on both clusters and drops them on exit.
# Installs pgcopydb with apt-get when it is missing (as root).
set -euo pipefail

SIZE_MB=100
JOBS=2
ROUNDS=2
BUILD=yes
VERIFY=no
TOOL_LIST=plain,ferry-dump,ferry-stream,pgcopydb
GIVEN_SOURCE=
CPU=no
WARM=no
WARM_MB=30
SETTLE=false
while [ $# -gt 0 ]; do
  case $1 in
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --skip-build) BUILD=no; shift ;;
    --verify) VERIFY=yes; shift ;;
    --tools) TOOL_LIST=$2; shift 2 ;;
    --source-db) GIVEN_SOURCE=$2; shift 2 ;;
    --cpu) CPU=yes; shift ;;
    --warm-up) WARM=yes; shift ;;
    --warm-up-mb) WARM=yes; WARM_MB=$2; shift 2 ;;
    --settle) SETTLE=true; shift ;;
    -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
  esac
done
[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -ge 20 ]] || { echo "--size-mb must be a number >= 20" >&2; exit 2; }
[[ $JOBS =~ ^[0-9]+$ && $JOBS -ge 1 ]] || { echo "--jobs must be a number >= 1" >&2; exit 2; }
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || { echo "--rounds must be a number >= 1" >&2; exit 2; }
IFS=, read -r -a TOOLS <<<"$TOOL_LIST"
for tool in "${TOOLS[@]}"; do
  case $tool in plain|ferry|ferry-dump|ferry-stream|pgcopydb) ;; *) echo "--tools: unknown tool $tool" >&2; exit 2 ;; esac
done

VERIFY_FLAG=
[ "$VERIFY" = no ] || VERIFY_FLAG=--verify

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOST=127.0.0.1
SOURCE_PORT=${FERRY_PG_SOURCE_PORT:-5433}
TARGET_PORT=${FERRY_PG_TARGET_PORT:-5434}
PG_USER=${FERRY_PG_USER:-ferry}
export PGPASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}
export PGHOST=$HOST PGUSER=$PG_USER PGAPPNAME=ferry-bench
# The same client tools Ferry's PgTools.locate picks: the newest Debian bin directory.
PG_BIN=${FERRY_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/pg_dump" ] || { echo "no pg_dump in $PG_BIN (set FERRY_PG_BIN)" >&2; exit 1; }
export PATH="$PG_BIN:$PATH"

TAG=$$
SOURCE_DB=${GIVEN_SOURCE:-bench_src_$TAG}
WORK=$(mktemp -d /var/tmp/ferry-bench.XXXXXX)
CREATED=()   # "port:db" of every database this run created
TEMPORAL_PID=

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" -c "$3"; }

cleanup() {
  local status=$?
  set +e
  for entry in "${CREATED[@]}"; do
    psql -X -q -p "${entry%%:*}" -d postgres -c "DROP DATABASE IF EXISTS ${entry#*:} WITH (FORCE)" >/dev/null 2>&1
  done
  # Waited for: a server still shutting down writes into the work dir as it is being removed.
  if [ -n "$TEMPORAL_PID" ]; then kill "$TEMPORAL_PID" 2>/dev/null; wait "$TEMPORAL_PID" 2>/dev/null; fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

create_db() { # PORT DB
  CREATED+=("$1:$2")
  q "$1" postgres "CREATE DATABASE $2" >/dev/null
}
drop_db() { # PORT DB
  q "$1" postgres "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Set-up: clusters, pgcopydb, the bench class.
for port in "$SOURCE_PORT" "$TARGET_PORT"; do
  pg_isready -q -h "$HOST" -p "$port" || { echo "no PostgreSQL on $HOST:$port: run ./ferry postgres start" >&2; exit 1; }
done
if ! command -v pgcopydb >/dev/null; then
  say "installing pgcopydb"
  { apt-get install -y -q pgcopydb || { apt-get update -q && apt-get install -y -q pgcopydb; }; } >"$WORK/apt.log" 2>&1 \
    || { cat "$WORK/apt.log" >&2; exit 1; }
fi
if [ "$BUILD" = yes ]; then
  say "building the activities and their test-jar (mvn package -pl activities -am)"
  (cd "$ROOT" && mvn -B -q -DskipTests package -pl activities -am \
    dependency:build-classpath -Dmdep.outputFile=target/bench.classpath) >"$WORK/mvn.log" 2>&1 \
    || { cat "$WORK/mvn.log" >&2; exit 1; }
fi
[ -f "$ROOT/activities/target/bench.classpath" ] || { echo "not built: run without --skip-build" >&2; exit 1; }
CLASSPATH_BENCH="$ROOT/activities/target/test-classes:$ROOT/activities/target/classes:$(cat "$ROOT/activities/target/bench.classpath")"

# A real Temporal server for the workflow runs: the dev server, on free ports, state in WORK.
TEMPORAL_BIN=${FERRY_TEMPORAL_BIN:-$(command -v temporal || echo /tmp/tbuild/bin/temporal)}
if [[ ,$TOOL_LIST, == *,ferry-dump,* || ,$TOOL_LIST, == *,ferry-stream,* ]]; then
  [ -x "$TEMPORAL_BIN" ] || { echo "no temporal CLI (set FERRY_TEMPORAL_BIN)" >&2; exit 1; }
  free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  TEMPORAL_PORT=$(free_port)
  "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$(free_port)" --http-port "$(free_port)" \
    --metrics-port "$(free_port)" --headless --db-filename "$WORK/temporal.db" --log-level warn \
    --search-attribute FerryApp=Keyword --search-attribute FerryKind=Keyword \
    --search-attribute FerryStrategy=Keyword --search-attribute FerryPhase=Keyword >"$WORK/temporal.log" 2>&1 &
  TEMPORAL_PID=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$TEMPORAL_PORT") 2>/dev/null && break
    sleep 0.1
  done
  say "temporal $("$TEMPORAL_BIN" --version | head -n 1) on 127.0.0.1:$TEMPORAL_PORT"
fi

# ---------------------------------------------------------------------------------------------
# The source: pgbench's tables for ~60% of the size, the wide table for the rest.
generate_source() { # [DB SIZE_MB]: the source, or another database like it
  local SOURCE_DB=${1:-$SOURCE_DB} SIZE_MB=${2:-$SIZE_MB}
  local scale=$(( SIZE_MB * 6 / 10 / 15 ))
  [ "$scale" -ge 1 ] || scale=1
  say "generating $SOURCE_DB: pgbench -i -s $scale --foreign-keys"
  create_db "$SOURCE_PORT" "$SOURCE_DB"
  pgbench -i -q -s "$scale" --foreign-keys -h "$HOST" -p "$SOURCE_PORT" -U "$PG_USER" "$SOURCE_DB" >"$WORK/pgbench.log" 2>&1 \
    || { cat "$WORK/pgbench.log" >&2; exit 1; }
  q "$SOURCE_PORT" "$SOURCE_DB" "
    CREATE TABLE bench_wide (
      id bigint PRIMARY KEY,
      created_at timestamptz NOT NULL,
      title text NOT NULL,
      body text NOT NULL,
      attrs jsonb NOT NULL);
    CREATE INDEX bench_wide_created_at ON bench_wide (created_at);
    -- ~1 KB a row: 16 md5s of text, and a jsonb document of five fields.
    CREATE FUNCTION bench_fill(first bigint, last bigint) RETURNS void LANGUAGE sql AS \$\$
      INSERT INTO bench_wide
      SELECT i,
             timestamptz '2020-01-01' + i * interval '17 seconds',
             md5(i::text),
             (SELECT string_agg(md5(i::text || ':' || k), ' ') FROM generate_series(1, 16) k),
             jsonb_build_object(
               'sku', 'SKU-' || i,
               'price', round((random() * 1000)::numeric, 2),
               'active', i % 3 <> 0,
               'tags', (SELECT jsonb_agg(substr(md5(k || ':' || i), 1, 12)) FROM generate_series(1, 6) k),
               'note', md5(i::text || 'note') || md5(i::text || 'more'))
      FROM generate_series(first, last) i
    \$\$;
    SELECT bench_fill(1, 10000);" >/dev/null
  # Calibrate the bytes a row takes (heap and both indexes), then fill up to the size.
  local per_row have want rows
  per_row=$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_total_relation_size('bench_wide') / 10000")
  have=$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_database_size(current_database())")
  want=$(( SIZE_MB * 1024 * 1024 ))
  rows=$(( (want - have) / per_row + 10000 ))
  [ "$rows" -ge 10000 ] || rows=10000
  say "bench_wide: $rows rows of ~$per_row bytes"
  local first=10001 batch=100000
  while [ "$first" -le "$rows" ]; do
    local last=$(( first + batch - 1 ))
    [ "$last" -le "$rows" ] || last=$rows
    q "$SOURCE_PORT" "$SOURCE_DB" "SELECT bench_fill($first, $last)" >/dev/null
    first=$(( last + 1 ))
  done
  q "$SOURCE_PORT" "$SOURCE_DB" "DROP FUNCTION bench_fill(bigint, bigint)" >/dev/null
  # Hint bits and visibility map set now, so no measured step pays for them on the source.
  q "$SOURCE_PORT" "$SOURCE_DB" "VACUUM (FREEZE, ANALYZE)" >/dev/null
  say "source: $(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))"), tables:" \
    "$(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT string_agg(format('%s %s rows %s', relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid))), '; ' ORDER BY relname) FROM pg_stat_user_tables")"
}

# ---------------------------------------------------------------------------------------------
# Sequential scans: every user table, one after another, in one session.
scan_sql() { # PORT DB KIND(count|hash): the statements, one per table
  local expr
  case $3 in
    count) expr="count(*)" ;;
    hash) expr="count(*) || '' '' || coalesce(sum(hashtext(t::text)), 0)" ;;
  esac
  q "$1" "$2" "SELECT format('SELECT %L || '' '' || $expr FROM %I.%I t;', n.nspname || '.' || c.relname, n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%' ORDER BY n.nspname, c.relname"
}
# time_scan PORT DB KIND OUT: runs the scan, writes its rows to OUT, prints its seconds
time_scan() {
  local sql t0 t1
  sql=$(scan_sql "$1" "$2" "$3")
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 -At -p "$1" -d "$2" <<<"$sql" >"$4"
  t1=$(now)
  elapsed "$t0" "$t1"
}

# ---------------------------------------------------------------------------------------------
# The measured steps. Each gets a fresh, empty target database and prints "name seconds" lines.
run_plain() { # TARGET_DB
  local dir="$WORK/plain-dump" t0 t1 t2
  rm -rf "$dir"
  t0=$(now)
  PGPORT=$SOURCE_PORT PGDATABASE=$SOURCE_DB pg_dump -Fd -j "$JOBS" -f "$dir" >"$WORK/plain.log" 2>&1 \
    || { cat "$WORK/plain.log" >&2; exit 1; }
  t1=$(now)
  PGPORT=$TARGET_PORT pg_restore -j "$JOBS" --exit-on-error --no-owner --no-privileges -d "$1" "$dir" >>"$WORK/plain.log" 2>&1 \
    || { cat "$WORK/plain.log" >&2; exit 1; }
  t2=$(now)
  rm -rf "$dir"
  echo "plain.dump $(elapsed "$t0" "$t1")"
  echo "plain.restore $(elapsed "$t1" "$t2")"
  echo "plain.total $(elapsed "$t0" "$t2")"
}

run_ferry() { # TARGET_DB
  local t0 t1
  t0=$(now)
  # The URLs (with the password) reach the JVM through its environment, as env: references.
  BENCH_SOURCE_URL="postgres://$PG_USER:$(urlencode "$PGPASSWORD")@$HOST:$SOURCE_PORT/$SOURCE_DB" \
  BENCH_TARGET_URL="postgres://$PG_USER:$(urlencode "$PGPASSWORD")@$HOST:$TARGET_PORT/$1" \
  FERRY_PG_BIN=$PG_BIN \
    java -cp "$CLASSPATH_BENCH" dev.ferry.bench.SnapshotRestoreBench --jobs "$JOBS" --work-dir "$WORK/ferry" ${VERIFY_FLAG:+"$VERIFY_FLAG"} \
    >"$WORK/ferry.log" 2>&1 || { cat "$WORK/ferry.log" >&2; exit 1; }
  t1=$(now)
  awk '/^ferry\.(snapshot|restore|total|verify)\.seconds / { sub(/\.seconds$/, "", $1); print $1, $2 }' "$WORK/ferry.log"
  echo "ferry.jvm $(elapsed "$t0" "$t1")"
}

run_workflow() { # METHOD TARGET_DB
  local t0 t1 warm_source= warm_target=
  if [ "$WARM" = yes ]; then
    warm_target=bench_warm_tgt_$TAG
    drop_db "$TARGET_PORT" "$warm_target"
    create_db "$TARGET_PORT" "$warm_target"
    warm_source="postgres://$PG_USER:$(urlencode "$PGPASSWORD")@$HOST:$SOURCE_PORT/$WARM_SOURCE_DB"
    warm_target="postgres://$PG_USER:$(urlencode "$PGPASSWORD")@$HOST:$TARGET_PORT/$warm_target"
  fi
  t0=$(now)
  FERRY_SECRET_REFS='env:BENCH_*' \
  BENCH_WARM_SOURCE_URL=$warm_source BENCH_WARM_TARGET_URL=$warm_target \
  BENCH_COPY_SOURCE_URL="postgres://$PG_USER:$(urlencode "$PGPASSWORD")@$HOST:$SOURCE_PORT/$SOURCE_DB" \
  BENCH_COPY_TARGET_URL="postgres://$PG_USER:$(urlencode "$PGPASSWORD")@$HOST:$TARGET_PORT/$2" \
  FERRY_PG_BIN=$PG_BIN \
    java -cp "$CLASSPATH_BENCH" dev.ferry.bench.SinglePhaseCopyBench --method "$1" --jobs "$JOBS" \
    --temporal "127.0.0.1:$TEMPORAL_PORT" --work-dir "$WORK/ferry-$1" --settle "$SETTLE" >"$WORK/ferry-$1.log" 2>&1 \
    || { cat "$WORK/ferry-$1.log" >&2; exit 1; }
  t1=$(now)
  # The run froze the source (as a single-phase run leaves it): make it writable for the others.
  unfreeze "$SOURCE_DB"
  if [ "$WARM" = yes ]; then
    unfreeze "$WARM_SOURCE_DB"
    drop_db "$TARGET_PORT" "bench_warm_tgt_$TAG"
  fi
  awk -v m="$1" '$1 ~ "^ferry\\." m "\\..*\\.seconds$" { sub(/\.seconds$/, "", $1); sub("^ferry\\." m "\\.", "ferry-" m ".", $1); print $1, $2 }' "$WORK/ferry-$1.log"
  grep -E "^ferry\.$1\.(verification|copy) " "$WORK/ferry-$1.log" | sed 's/^/  /' >&2
  echo "ferry-$1.jvm $(elapsed "$t0" "$t1")"
}
unfreeze() { # DB: what a single-phase run's freeze leaves on its source (read-only default, write fence)
  q "$SOURCE_PORT" postgres "ALTER DATABASE $1 RESET default_transaction_read_only" >/dev/null
  q "$SOURCE_PORT" "$1" "DROP EVENT TRIGGER IF EXISTS ferry_write_fence_ddl; DROP SCHEMA IF EXISTS ferry_fence CASCADE" >/dev/null
}
run_ferry-dump() { run_workflow dump "$1"; }
run_ferry-stream() { run_workflow stream "$1"; }

run_pgcopydb() { # TARGET_DB
  local t0 t1
  rm -rf "$WORK/pgcopydb"
  t0=$(now)
  PGCOPYDB_SOURCE_PGURI="postgres://$PG_USER@$HOST:$SOURCE_PORT/$SOURCE_DB" \
  PGCOPYDB_TARGET_PGURI="postgres://$PG_USER@$HOST:$TARGET_PORT/$1" \
    pgcopydb clone --table-jobs "$JOBS" --index-jobs "$JOBS" --no-owner --dir "$WORK/pgcopydb" \
    >"$WORK/pgcopydb.log" 2>&1 || { tail -n 40 "$WORK/pgcopydb.log" >&2; exit 1; }
  t1=$(now)
  rm -rf "$WORK/pgcopydb"
  echo "pgcopydb.total $(elapsed "$t0" "$t1")"
}


urlencode() {
  local s=$1 out="" c i
  for (( i = 0; i < ${#s}; i++ )); do
    c=${s:i:1}
    case $c in [a-zA-Z0-9.~_-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

# ---------------------------------------------------------------------------------------------
say "work dir $WORK; $(nproc) cores; $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
WARM_SOURCE_DB=bench_warm_src_$TAG
if [ "$WARM" = yes ]; then
  generate_source "$WARM_SOURCE_DB" "$WARM_MB" 2>/dev/null
fi
if [ -z "$GIVEN_SOURCE" ]; then
  generate_source
else
  say "source: the existing $SOURCE_DB, $(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))")"
fi

declare -A TIME=()   # "key round" -> seconds
declare -A SCAN=()   # "side.kind" -> seconds (summed over rounds for the target)
say "warming the source's cache (one untimed count scan)"
time_scan "$SOURCE_PORT" "$SOURCE_DB" count "$WORK/source.count" >/dev/null
SCAN[source.count]=$(time_scan "$SOURCE_PORT" "$SOURCE_DB" count "$WORK/source.count")
SCAN[source.hash]=$(time_scan "$SOURCE_PORT" "$SOURCE_DB" hash "$WORK/source.hash")
say "source scans: count(*) ${SCAN[source.count]} s, hashtext ${SCAN[source.hash]} s"

warm_source() { # reads every table of the source once (sequential scans fill the page cache)
  local t
  for t in $(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables"); do
    q "$SOURCE_PORT" "$SOURCE_DB" "SELECT count(*) FROM $t" >/dev/null
  done
}

for (( round = 1; round <= ROUNDS; round++ )); do
  order=("${TOOLS[@]}")
  if (( round % 2 == 0 )); then
    order=()
    for (( i = ${#TOOLS[@]} - 1; i >= 0; i-- )); do order+=("${TOOLS[$i]}"); done
  fi
  for tool in "${order[@]}"; do
    target=bench_${tool//-/_}_r${round}_$TAG
    create_db "$TARGET_PORT" "$target"
    # Each copy starts with nothing left to write: both clusters' dirty buffers written out, and
    # (fsync is off here, so a checkpoint leaves them in the page cache) the kernel's dirty pages
    # flushed. Else a copy pays for the writeback of what ran before it: the source's generation
    # and freeze vacuum slowed every round 1's first copy by ~2 s.
    q "$SOURCE_PORT" postgres "CHECKPOINT" >/dev/null
    q "$TARGET_PORT" postgres "CHECKPOINT" >/dev/null
    sync
    # And each copy starts with the source's tables in the page cache. This machine pages out
    # memory left idle for about a minute (DAMON, see ENVIRONMENT.md): without this, a copy that
    # starts later after the source was last read (Ferry's, after its JVM's start and warm-up)
    # would read part of it from disk.
    warm_source
    say "round $round: $tool -> $target (load $(cut -d' ' -f1-3 /proc/loadavg))"
    if [ "$CPU" = yes ]; then
      rm -f "$WORK/cpu.stop"
      python3 "$ROOT/bench/cpu-sample.py" "$WORK/cpu.stop" "$WORK/cpu" "$SOURCE_DB" "$target" &
      sampler=$!
    fi
    "run_$tool" "$target" >"$WORK/times"
    if [ "$CPU" = yes ]; then
      touch "$WORK/cpu.stop"
      wait "$sampler"
      say "  cpu seconds: $(tr '\n' ' ' <"$WORK/cpu")"
      [ ! -f "$WORK/cpu.jvm-threads" ] || { say "  the JVM's threads, cpu seconds:"; sed 's/^/    /' "$WORK/cpu.jvm-threads" >&2; rm -f "$WORK/cpu.jvm-threads"; }
    fi
    while read -r key seconds; do
      TIME["$key $round"]=$seconds
      say "  $key $seconds s"
    done <"$WORK/times"
    # The copy must hold what the source holds; the scans of Ferry's copy are the baseline.
    count_s=$(time_scan "$TARGET_PORT" "$target" count "$WORK/target.count")
    hash_s=$(time_scan "$TARGET_PORT" "$target" hash "$WORK/target.hash")
    if ! diff -u "$WORK/source.hash" "$WORK/target.hash" >"$WORK/diff"; then
      echo "the $tool copy differs from the source:" >&2
      cat "$WORK/diff" >&2
      exit 1
    fi
    say "  $target matches the source ($(wc -l <"$WORK/target.hash") tables); scans: count(*) $count_s s, hashtext $hash_s s"
    if [ "$tool" = ferry ] || [ "$tool" = ferry-stream ]; then
      SCAN[target.count]=$(awk -v a="${SCAN[target.count]:-0}" -v b="$count_s" 'BEGIN { print a + b }')
      SCAN[target.hash]=$(awk -v a="${SCAN[target.hash]:-0}" -v b="$hash_s" 'BEGIN { print a + b }')
    fi
    drop_db "$TARGET_PORT" "$target"
  done
done

# ---------------------------------------------------------------------------------------------
mean() { # KEY: mean over the rounds
  local sum=0 r
  for (( r = 1; r <= ROUNDS; r++ )); do sum=$(awk -v a="$sum" -v b="${TIME["$1 $r"]}" 'BEGIN { print a + b }'); done
  awk -v s="$sum" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }'
}
has() { [ -n "${TIME["$1 1"]:-}" ]; }
row() { # LABEL KEY [BASE_KEY]: each round, the mean, and the mean over BASE_KEY's
  has "$2" || return 0
  local r line mean_s ratio=-
  line=$(printf '%-40s' "$1")
  for (( r = 1; r <= ROUNDS; r++ )); do line+=$(printf ' %9s' "${TIME["$2 $r"]}"); done
  mean_s=$(mean "$2")
  if [ -n "${3:-}" ] && has "$3"; then ratio=$(awk -v a="$mean_s" -v b="$(mean "$3")" 'BEGIN { printf "%.3f", a / b }'); fi
  line+=$(printf ' %9s %8s' "$mean_s" "$ratio")
  echo "$line"
}
echo
echo "source $SOURCE_DB: $(q "$SOURCE_PORT" "$SOURCE_DB" "SELECT pg_size_pretty(pg_database_size(current_database()))") (--size-mb $SIZE_MB), jobs $JOBS, rounds $ROUNDS, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
header=$(printf '%-40s' "tool")
for (( r = 1; r <= ROUNDS; r++ )); do header+=$(printf ' %9s' "run $r s"); done
header+=$(printf ' %9s %8s' "mean s" "ratio")
echo "$header"
row "plain pg_dump+pg_restore" plain.total plain.total
row "  pg_dump -Fd" plain.dump plain.total
row "  pg_restore" plain.restore plain.total
row "ferry dump: snapshot+restore (/plain)" ferry-dump.dumprestore plain.total
row "  snapshot step" ferry-dump.snapshot plain.total
row "  restore step" ferry-dump.restore plain.total
row "  verify step" ferry-dump.verify plain.total
row "  freeze -> verified (/plain)" ferry-dump.copied plain.total
row "  (the JVM's whole run)" ferry-dump.jvm plain.total
row "pgcopydb clone" pgcopydb.total pgcopydb.total
row "ferry stream: freeze -> verified (/pgcopydb)" ferry-stream.copied pgcopydb.total
row "  freeze-source step" ferry-stream.freeze-source pgcopydb.total
row "  copy step (streamed, checked)" ferry-stream.copy pgcopydb.total
row "  verify step (the copy's report)" ferry-stream.verify pgcopydb.total
row "  (the JVM's whole run)" ferry-stream.jvm pgcopydb.total
row "ferry activities: snapshot+restore" ferry.total plain.total
row "  dumpDatabase" ferry.snapshot plain.total
row "  restoreDatabase" ferry.restore plain.total
row "  (the JVM's whole run$([ "$VERIFY" = no ] || echo ', with verify'))" ferry.jvm plain.total
echo
echo "verification baseline: one sequential scan of every table (target: Ferry's copy, mean of $ROUNDS)"
printf '%-36s %9s %9s\n' "" "source s" "target s"
printf '%-36s %9s %9s\n' "SELECT count(*)" "${SCAN[source.count]}" "$(awk -v s="${SCAN[target.count]:-0}" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }')"
printf '%-36s %9s %9s\n' "SELECT sum(hashtext(t::text))" "${SCAN[source.hash]}" "$(awk -v s="${SCAN[target.hash]:-0}" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }')"
if [ "$VERIFY" = yes ]; then
  verify_s=$(mean ferry.verify)
  scans_s=$(awk -v s="${SCAN[source.hash]}" -v t="${SCAN[target.hash]:-0}" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s + t / n }')
  echo
  echo "Ferry's verification (chunked checksums, both sides at once, jobs $JOBS), mean of $ROUNDS: $verify_s s"
  echo "  / (hashtext scan of the source + of the target, one after the other: $scans_s s) = $(awk -v a="$verify_s" -v b="$scans_s" 'BEGIN { printf "%.3f", a / b }')"
fi
