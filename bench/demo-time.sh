#!/usr/bin/env bash
# Times `./ferry demo` as a user runs it: from the command to the line that says the run
# SUCCEEDED, with the stack's start and the run itself apart. Run it on a warm machine (built,
# the Temporal CLI obtained, one demo run before), alternating the checkouts compared:
#
#   bench/demo-time.sh                  this checkout
#   bench/demo-time.sh /tmp/ferry-e70f1ca   another one, e.g. the last commit on the Java test server:
#       mkdir /tmp/ferry-e70f1ca && git archive e70f1ca | tar -x -C /tmp/ferry-e70f1ca
#       (cd /tmp/ferry-e70f1ca && mvn -B -q -DskipTests package)   # the reactor only, never install
#
# The stack listens on moved ports (FERRY_DEV_TEMPORAL_*PORT 27233-27236, API 27280, admin 27281:
# a developer's ./ferry dev on the defaults is left alone; the script refuses to start when one
# is taken) and uses a ledger database of its own, dropped on exit. The demo itself drops and
# reloads the `shop` databases on both clusters, as it always does: do not run it while someone
# else's demo runs.
set -euo pipefail

DIR=$(cd "${1:-$(dirname "$0")/..}" && pwd)
export FERRY_DEV_TEMPORAL_PORT=27233 FERRY_DEV_TEMPORAL_UI_PORT=27234 FERRY_DEV_TEMPORAL_HTTP_PORT=27235 FERRY_DEV_TEMPORAL_METRICS_PORT=27236
export FERRY_API_PORT=27280 FERRY_ADMIN_PORT=27281 FERRY_API=http://127.0.0.1:27280
for port in 27233 27234 27235 27236 27280 27281; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use: is another demo running?" >&2; exit 1; fi
done
export PGPASSWORD=${FERRY_PG_PASSWORD:-ferry-local-only}
TARGET_PORT=${FERRY_PG_TARGET_PORT:-5434}
LEDGER=bench_demo_ledger_$$
psql -X -q -h 127.0.0.1 -p "$TARGET_PORT" -U "${FERRY_PG_USER:-ferry}" -d postgres -c "CREATE DATABASE $LEDGER"
trap 'psql -X -q -h 127.0.0.1 -p "$TARGET_PORT" -U "${FERRY_PG_USER:-ferry}" -d postgres -c "DROP DATABASE IF EXISTS $LEDGER WITH (FORCE)"' EXIT
export FERRY_LEDGER_URL="postgres://${FERRY_PG_USER:-ferry}:$PGPASSWORD@127.0.0.1:$TARGET_PORT/$LEDGER"

LOG=$(mktemp /var/tmp/ferry-demo-time.XXXXXX.log)
start=$(date +%s.%N)
(cd "$DIR" && ./ferry demo) 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done >"$LOG"
end=$(date +%s.%N)
succeeded=$(grep -m1 -E ' migration-shop-[0-9a-f]+ SUCCEEDED$' "$LOG" | cut -d' ' -f1 || true)
ready=$(grep -m1 'starting the migration as olivia' "$LOG" | cut -d' ' -f1 || true)
[ -n "$succeeded" ] || { echo "the demo did not succeed; its output: $LOG" >&2; exit 1; }
awk -v a="$start" -v s="$succeeded" -v r="$ready" -v e="$end" -v d="$DIR" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
  'BEGIN { printf "%s: SUCCEEDED after %.1f s (stack up and migration started after %.1f s, the run %.1f s); the command exited after %.1f s; load %s\n", d, s - a, r - a, s - r, e - a, l }'
echo "output: $LOG"
