-- What was done to each rehearsal schedule through Ferry, and by whom: created, paused, resumed
-- (with the note), triggered (with what the fire did), deleted. Temporal keeps only a
-- schedule's latest note and forgets a deleted schedule; this is the audit record. What the
-- schedule's timed fires did is read from Temporal and from the rehearsals' own rows in `runs`.

CREATE TABLE schedule_events (
  id            bigserial PRIMARY KEY,
  schedule_id   text NOT NULL REFERENCES schedules (schedule_id),
  at            timestamptz NOT NULL,
  type          text NOT NULL CHECK (type IN ('CREATED', 'PAUSED', 'RESUMED', 'TRIGGERED', 'DELETED', 'CONVERTED')),
  actor         text NOT NULL,
  note          text,
  -- TRIGGERED: what the fire did (STARTED, SKIPPED; REQUESTED when Temporal had not acted yet),
  -- the rehearsal it started or the one still running that made Temporal skip it, and why.
  fire_result   text CHECK (fire_result IN ('STARTED', 'SKIPPED', 'REQUESTED')),
  rehearsal_id  text,
  reason        text
);

CREATE INDEX schedule_events_by_schedule ON schedule_events (schedule_id, at DESC, id DESC);

-- A schedule's rehearsals are the runs it started: started_by = 'schedule:<id>'.
CREATE INDEX runs_by_starter ON runs (started_by, created_at DESC) WHERE kind = 'rehearsal';
