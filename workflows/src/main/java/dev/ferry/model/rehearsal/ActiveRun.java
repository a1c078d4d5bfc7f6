package dev.ferry.model.rehearsal;

import dev.ferry.model.RunKind;
import java.time.Instant;

/** A run of an app the ledger shows as not ended: what a rehearsal must not overlap. */
public record ActiveRun(String runId, RunKind kind, String state, Instant createdAt) {}
