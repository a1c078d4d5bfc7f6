#!/bin/sh
# Ferry's ledger database, beside Temporal's in the compose PostgreSQL: a database `ferry`
# owned by a role `ferry` (password FERRY_LEDGER_PASSWORD): the run ledger, which the API and
# the worker reach at postgres://ferry:<password>@postgresql:5432/ferry (FERRY_LEDGER_URL). The
# API creates and migrates its tables at start-up.
# The postgres image runs this once, when it initialises an empty data volume.
set -eu
: "${FERRY_LEDGER_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v ledger_password="$FERRY_LEDGER_PASSWORD" <<'SQL'
CREATE ROLE ferry LOGIN PASSWORD :'ledger_password';
CREATE DATABASE ferry OWNER ferry;
REVOKE ALL ON DATABASE ferry FROM PUBLIC;
SQL
