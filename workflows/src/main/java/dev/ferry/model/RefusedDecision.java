package dev.ferry.model;

import java.time.Instant;

/** A decision that arrived by signal and was refused (an update is refused before it is recorded). */
public record RefusedDecision(String gate, String by, String reason, Instant at) {}
