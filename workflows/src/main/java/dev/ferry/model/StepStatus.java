package dev.ferry.model;

import java.time.Instant;

/**
 * One step of a run as the status query shows it.
 *
 * @param detail what the step found or did (a one-line summary), or why it failed or was skipped
 * @param attempts how many times the step started (more than one when a lost worker host made
 *     Ferry redo it)
 */
public record StepStatus(
    String name,
    StepState state,
    Instant startedAt,
    Instant endedAt,
    Long durationMillis,
    String detail,
    int attempts) {}
