package dev.ferry.api.representations;

import jakarta.validation.constraints.Size;

/** The body of {@code POST /api/runs/{id}/cancel}, optional: why, for the audit trail. */
public record CancelRequest(@Size(max = 2000) String reason) {}
