package dev.ferry.api.representations;

/** {@code POST /api/rehearsals}: the new rehearsal, where to watch it and where its report will be. */
public record RehearsalCreated(String runId, String app, String statusUrl, String reportUrl) {}
