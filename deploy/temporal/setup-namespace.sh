#!/bin/sh
# Registers Ferry's namespace and the search attributes Ferry's workflows set, so runs can be
# found in the Temporal UI and CLI by app, kind, strategy and phase:
#   FerryApp, FerryKind, FerryStrategy, FerryPhase (all Keyword).
# Safe to run on every start: it creates only what is missing.
# Runs in temporalio/admin-tools (the temporal CLI).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${FERRY_NAMESPACE:?}"
retention=${FERRY_NAMESPACE_RETENTION:-30d}

# try DESCRIPTION COMMAND...: the server (and, after a namespace is created, its namespace
# cache, refreshed every 10 s) may not be ready at once; give it two minutes.
try() {
  what=$1
  shift
  i=0
  until "$@"; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then
      echo "ferry: gave up: $what" >&2
      exit 1
    fi
    sleep 2
  done
}

try "Temporal at $TEMPORAL_ADDRESS to answer" temporal operator cluster health --address "$TEMPORAL_ADDRESS"

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$FERRY_NAMESPACE" >/dev/null 2>&1; then
  echo "ferry: namespace $FERRY_NAMESPACE exists"
else
  echo "ferry: creating namespace $FERRY_NAMESPACE (retention $retention)"
  try "creating namespace $FERRY_NAMESPACE" \
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$FERRY_NAMESPACE" \
      --retention "$retention" --description "Ferry: Heroku to AWS database migrations"
fi

registered() {
  temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$FERRY_NAMESPACE" \
    | grep -qw "$1"
}
for attribute in FerryApp FerryKind FerryStrategy FerryPhase; do
  if registered "$attribute"; then
    echo "ferry: search attribute $attribute exists"
  else
    echo "ferry: registering search attribute $attribute (Keyword)"
    try "registering search attribute $attribute" \
      temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$FERRY_NAMESPACE" \
        --name "$attribute" --type Keyword
  fi
done
echo "ferry: namespace $FERRY_NAMESPACE is ready"
