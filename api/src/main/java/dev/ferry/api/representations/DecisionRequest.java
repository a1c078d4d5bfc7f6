package dev.ferry.api.representations;

import jakarta.validation.constraints.Size;

/**
 * The body of {@code POST .../approve} and {@code .../reject}. There is no approver field: the
 * approver is the authenticated caller.
 *
 * @param comment why; required to reject
 */
public record DecisionRequest(@Size(max = 2000) String comment) {}
