package dev.ferry.model.database;

import java.util.List;

/**
 * @param set sequences moved to the source's value
 * @param alreadyCurrent sequences already at the source's value
 * @param aheadOnTarget sequences the target had moved past the source (left as they were): the
 *     first 20, then {@code … and N more} (the worker's log names them all)
 */
public record SequenceSync(int set, int alreadyCurrent, List<String> aheadOnTarget) {}
