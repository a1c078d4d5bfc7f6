package dev.ferry.api.representations;

/** {@code POST /api/runs/{id}/cancel}: the run was asked to cancel; it rolls back, then ends CANCELLED. */
public record CancelAccepted(String runId, String requestedBy, String statusUrl) {}
