package dev.ferry.api.representations;

/** {@code POST /api/runs}: the new run and where to watch it. */
public record RunCreated(String runId, String app, String statusUrl) {}
