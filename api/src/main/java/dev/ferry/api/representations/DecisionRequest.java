package dev.ferry.api.representations;

import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/**
 * The body of {@code POST .../approve} and {@code .../reject}. There is no approver field: the
 * approver is the authenticated caller.
 *
 * @param comment why; required to reject
 * @param evidenceDigest the pending gate's {@code evidenceDigest} the caller looked at; when given,
 *     a decision on evidence that has changed since is refused (409)
 */
public record DecisionRequest(
    @Size(max = 2000) String comment, @Pattern(regexp = "[0-9a-f]{64}") String evidenceDigest) {}
