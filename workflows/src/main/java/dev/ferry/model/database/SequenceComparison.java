package dev.ferry.model.database;

/**
 * One sequence on both sides. A target behind the source would hand out ids the source already
 * used.
 *
 * @param sourceValue the next value the source would return, or {@code null} when the sequence
 *     is missing there
 * @param targetValue the same on the target
 * @param matches both exist and the target is not behind the source
 */
public record SequenceComparison(String sequence, Long sourceValue, Long targetValue, boolean matches) {}
