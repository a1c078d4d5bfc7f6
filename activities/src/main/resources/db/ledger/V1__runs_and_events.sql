-- Ferry's run ledger: every run (started through the API, the Temporal UI or CLI) and its audit
-- events. Applied by Flyway when the API (or a worker with a ledger) starts.

CREATE TABLE runs (
  run_id          text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('migration', 'rehearsal')),
  app             text NOT NULL,
  strategy        text,
  -- Who started it: the authenticated API user, or the workflow input's startedBy.
  started_by      text,
  started_via     text NOT NULL CHECK (started_via IN ('api', 'temporal')),
  -- The client's Idempotency-Key and the SHA-256 of the request it came with.
  idempotency_key text,
  request_sha256  text,
  -- The runbook as parsed: secret references only, never secrets.
  runbook         jsonb,
  state           text NOT NULL,
  phase           text,
  -- The highest workflow event seq applied to state: older events never move it back.
  last_seq        bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  CONSTRAINT runs_idempotency_key UNIQUE (started_by, idempotency_key)
);

CREATE INDEX runs_newest_first ON runs (created_at DESC, run_id DESC);
CREATE INDEX runs_by_app ON runs (app, created_at DESC);

CREATE TABLE run_events (
  id              bigserial PRIMARY KEY,
  run_id          text NOT NULL REFERENCES runs (run_id),
  -- The workflow's own number for the event (idempotency); null for events the API writes.
  seq             bigint,
  at              timestamptz NOT NULL,
  type            text NOT NULL,
  step            text,
  actor           text,
  detail          text,
  evidence_digest text,
  source          text NOT NULL CHECK (source IN ('workflow', 'api')),
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT run_events_once UNIQUE (run_id, seq)
);

CREATE INDEX run_events_in_order ON run_events (run_id, at, id);
