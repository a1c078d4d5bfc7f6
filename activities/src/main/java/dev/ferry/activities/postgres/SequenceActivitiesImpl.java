package dev.ferry.activities.postgres;

import dev.ferry.activity.SequenceActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.SequenceSync;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Copies sequence values from the source to the target. */
public class SequenceActivitiesImpl implements SequenceActivities {
  private static final Logger log = LoggerFactory.getLogger(SequenceActivitiesImpl.class);
  private static final String APPLICATION_NAME = "ferry-sequences";

  private final Databases databases;

  public SequenceActivitiesImpl(Databases databases) {
    this.databases = databases;
  }

  @Override
  public SequenceSync syncSequences(DatabasePair pair) {
    Endpoint source = databases.resolve(Databases.SOURCE, pair.sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, pair.targetUrlRef());
    Map<String, Sequences.State> sourceValues = read(source);
    try (Connection c = databases.connect(target, APPLICATION_NAME)) {
      Map<String, Sequences.State> targetValues = Sequences.read(c);
      List<String> missing =
          sourceValues.keySet().stream().filter(name -> !targetValues.containsKey(name)).toList();
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
      int set = toSet.size();
      log.info("sequences: {} set, {} already current, {} ahead on the target: {}", set, current, ahead.size(), ahead);
      // The result travels through Temporal: it names a few, the log names them all.
      return new SequenceSync(set, current, bounded(ahead));
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
  }

  /** Names shown in a result or message at most. */
  static final int NAMED = 20;

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

  private Map<String, Sequences.State> read(Endpoint endpoint) {
    try (Connection c = databases.connect(endpoint, APPLICATION_NAME)) {
      c.setReadOnly(true);
      return Sequences.read(c);
    } catch (SQLException e) {
      throw Databases.failure(endpoint, e);
    }
  }
}
