package dev.ferry.api.representations;

/** {@code POST /api/runbooks/validate} for a runbook without problems (problems come back as 422). */
public record ValidationResult(boolean valid, String app, String strategy) {}
