#!/bin/sh
# Creates Temporal's databases in the compose PostgreSQL, or upgrades their schema to the
# server image's version. Safe to run on every start: create and setup-schema leave existing
# databases alone, update-schema applies only what is missing.
# Runs in temporalio/admin-tools (temporal-sql-tool, schemas under /etc/temporal/schema).
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port=${DB_PORT:-5432}
schemas=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"
}

for db in temporal visibility; do
  name=$([ "$db" = temporal ] && echo temporal || echo temporal_visibility)
  echo "ferry: Temporal database $name"
  sql --db "$name" create
  sql --db "$name" setup-schema -v 0.0
  sql --db "$name" update-schema -d "$schemas/$db/versioned"
done
echo "ferry: Temporal's schema is ready"
