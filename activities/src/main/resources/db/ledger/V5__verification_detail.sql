-- The comparison of every table, sequence and schema difference a verification made. The run's
-- status (a Temporal payload) names at most 50 of each, so that it stays small whatever the
-- number of tables; the rest is here, written by the verify activity as it goes and served by
-- GET /api/runs/{id}/verification. One verification is one activity of a run (its retries
-- write the same rows again).

CREATE TABLE verifications (
  run_id       text NOT NULL,
  activity_id  text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  -- Set once the verification is complete (a retry that completes it sets it again).
  finished_at  timestamptz,
  mismatches   integer,
  PRIMARY KEY (run_id, activity_id)
);

CREATE INDEX verifications_newest_first ON verifications (run_id, started_at DESC);

CREATE TABLE verification_objects (
  run_id       text NOT NULL,
  activity_id  text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('table', 'sequence', 'schema')),
  -- The table or sequence (schema-qualified), or "<kind> <object>" of a schema difference.
  name         text NOT NULL,
  matches      boolean NOT NULL,
  -- The comparison as the report's types write it (TableComparison, SequenceComparison,
  -- SchemaDifference), in JSON.
  detail       jsonb NOT NULL,
  PRIMARY KEY (run_id, activity_id, kind, name),
  FOREIGN KEY (run_id, activity_id) REFERENCES verifications (run_id, activity_id) ON DELETE CASCADE
);

-- The differing objects of a verification, first: what an operator asks for.
CREATE INDEX verification_objects_differing ON verification_objects (run_id, activity_id, kind, name) WHERE NOT matches;
