package dev.ferry.activities.postgres;

import dev.ferry.activity.SequenceActivities;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.database.SequenceSync;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/** Copies sequence values from the source to the target ({@link SequenceCopy}), as a step of its own. */
public class SequenceActivitiesImpl implements SequenceActivities {
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
      return SequenceCopy.toTarget(sourceValues, target, c);
    } catch (SQLException e) {
      throw Databases.failure(target, e);
    }
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
