package dev.ferry.activities.postgres;

import dev.ferry.model.Errors;
import dev.ferry.model.database.SequenceSync;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the target's sequences to the source's values: the step sync sequences ({@link
 * SequenceActivitiesImpl}), or the end of a drain, on the drain's own sessions. Never moves a
 * sequence back (the target would hand out values twice); a sequence the target lacks is final.
 */
public final class SequenceCopy {
  private static final Logger log = LoggerFactory.getLogger(SequenceCopy.class);

  /** Names shown in a result or message at most. */
  static final int NAMED = 20;

  private SequenceCopy() {}

  /**
   * Reads the source's sequences on {@code source} (any session: reading a sequence takes no
   * transaction's snapshot) and sets the target's on {@code target}, committing when the session
   * is inside a transaction.
   */
  public static SequenceSync copy(Connection source, Endpoint target, Connection targetSession) throws SQLException {
    return toTarget(Sequences.read(source), target, targetSession);
  }

  static SequenceSync toTarget(Map<String, Sequences.State> sourceValues, Endpoint target, Connection c) throws SQLException {
    Map<String, Sequences.State> targetValues = Sequences.read(c);
    List<String> missing = sourceValues.keySet().stream().filter(name -> !targetValues.containsKey(name)).toList();
    if (!missing.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          target.describe() + " lacks " + missing.size() + " of the source's sequences (" + named(missing)
              + "): the schema on the target is not the source's",
          Errors.SEQUENCE_MISSING);
    }
    int current = 0;
    List<String> ahead = new ArrayList<>();
    List<Sequences.State[]> toSet = new ArrayList<>();
    for (Sequences.State s : sourceValues.values()) {
      Sequences.State t = targetValues.get(s.display());
      if (t.next() == s.next()) {
        current++;
      } else if (s.behind(t)) {
        // The target handed out values the source never did: moving it back would hand them
        // out twice.
        ahead.add(s.display() + " (source next " + s.next() + ", target next " + t.next() + ")");
      } else {
        toSet.add(new Sequences.State[] {t, s});
      }
    }
    Sequences.setAll(c, toSet);
    if (!c.getAutoCommit()) {
      c.commit();
    }
    int set = toSet.size();
    log.info("sequences: {} set, {} already current, {} ahead on the target: {}", set, current, ahead.size(), ahead);
    // The result travels through Temporal: it names a few, the log names them all.
    return new SequenceSync(set, current, bounded(ahead));
  }

  /** The first {@link #NAMED}, then {@code … and N more}. */
  static List<String> bounded(List<String> all) {
    if (all.size() <= NAMED) {
      return all;
    }
    List<String> some = new ArrayList<>(all.subList(0, NAMED));
    some.add("… and " + (all.size() - NAMED) + " more (the worker's log names them)");
    return some;
  }

  private static String named(List<String> all) {
    return String.join(", ", bounded(all));
  }
}
