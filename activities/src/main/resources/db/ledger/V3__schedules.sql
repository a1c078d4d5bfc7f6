-- Rehearsal schedules the API created, so it can list them on any Temporal server (the embedded
-- one has no Schedule API and no list API) and bring back the workflow-kept ones a restarted
-- embedded server lost. What each schedule did (started / skipped and why) lives with the
-- schedule itself: the workflow's describe query, or Temporal's schedule.

CREATE TABLE schedules (
  schedule_id     text PRIMARY KEY,
  app             text NOT NULL,
  -- Who keeps it: Temporal's native Schedule, or a RehearsalScheduleWorkflow.
  backend         text NOT NULL CHECK (backend IN ('native', 'workflow')),
  cron            text,
  interval_secs   bigint,
  timezone        text NOT NULL,
  fresh_snapshot  boolean NOT NULL,
  -- The runbook as parsed: secret references only, never secrets.
  runbook         jsonb NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL,
  -- CREATING until Temporal took it, then ACTIVE; DELETED rows are kept for the audit.
  state           text NOT NULL CHECK (state IN ('CREATING', 'ACTIVE', 'DELETED')),
  -- Paused through the API: a schedule brought back after a restart comes back paused.
  paused          boolean NOT NULL DEFAULT false,
  deleted_by      text,
  deleted_at      timestamptz,
  CONSTRAINT schedules_one_timing CHECK ((cron IS NULL) <> (interval_secs IS NULL))
);

CREATE INDEX schedules_by_app ON schedules (app, created_at DESC);

-- The overlap check reads the runs of one app that have not ended.
CREATE INDEX runs_open_by_app ON runs (app) WHERE state NOT IN ('SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED');
