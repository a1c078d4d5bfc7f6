-- Rehearsal reports (issue 8): one row per rehearsal, written once by the rehearsal workflow
-- through RehearsalLedgerActivities.recordRehearsalReport, read by the API and by the cutover
-- gate's budget. The whole report is kept as JSON; the columns are what lists and trends read.

CREATE TABLE rehearsal_reports (
  rehearsal_id          text PRIMARY KEY,
  app                   text NOT NULL,
  strategy              text,
  outcome               text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped')),
  started_at            timestamptz NOT NULL,
  finished_at           timestamptz,
  -- null when the rehearsal did not get far enough to estimate it
  estimated_downtime_ms bigint,
  byte_count            bigint NOT NULL DEFAULT 0,
  row_count             bigint NOT NULL DEFAULT 0,
  -- The shape of `report`: 1 is RehearsalReport as of issue 8.
  report_version        integer NOT NULL,
  report                jsonb NOT NULL,
  recorded_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX rehearsal_reports_by_app ON rehearsal_reports (app, started_at DESC, rehearsal_id DESC);
CREATE INDEX rehearsal_reports_newest_first ON rehearsal_reports (started_at DESC, rehearsal_id DESC);

-- The rehearsal's overlap check asks for an app's runs that have not ended.
CREATE INDEX runs_not_ended_by_app ON runs (app, created_at) WHERE ended_at IS NULL;
