#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine (none runs on CI): Debian's
# docker-compose (Compose v1.29) parses the file, checks it against the Compose schema and
# interpolates every variable, with deploy/env.example standing in for .env. `./ferry test`
# runs this before `mvn verify`. docker-compose is installed from Debian's packages when it
# is missing and root (or password-less sudo) is at hand; otherwise the check is skipped,
# loudly.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'check-compose: %s\n' "$*" >&2; }

if ! command -v docker-compose >/dev/null; then
  install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose)
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q >/dev/null && "${install[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo apt-get update -q >/dev/null && sudo "${install[@]}" >/dev/null
  else
    say "SKIPPED: docker-compose is not installed and I cannot install it (apt-get install docker-compose)"
    exit 0
  fi
fi

# The file must name every required variable: without them Compose refuses to start...
required=(FERRY_POSTGRES_PASSWORD FERRY_LEDGER_PASSWORD FERRY_PAYLOAD_KEY FERRY_USERS FERRY_SECRET_REFS)
if env "${required[@]/#/-u}" docker-compose -f docker-compose.yml --env-file /dev/null config -q 2>/dev/null; then
  say "docker-compose.yml would start without ${required[*]} set"
  exit 1
fi
# ...and with the example's values it is valid.
docker-compose -f docker-compose.yml --env-file deploy/env.example config -q
say "docker-compose.yml is valid ($(docker-compose version --short))"
