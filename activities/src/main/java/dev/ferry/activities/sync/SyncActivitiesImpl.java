package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import dev.ferry.activities.postgres.SequenceCopy;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.database.SequenceSync;
import dev.ferry.model.runbook.SyncSpec;
import dev.ferry.model.sync.Drained;
import dev.ferry.model.sync.SyncCheck;
import dev.ferry.model.sync.SyncLag;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.sync.SyncSetup;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.sql.SQLException;

/** Continuous sync: resolves both databases and hands each call to the runbook's method. */
public class SyncActivitiesImpl implements SyncActivities {
  private final Databases databases;
  private final SyncMethod trigger;
  private final SyncMethod logical;

  public SyncActivitiesImpl(Databases databases, InitialCopy copy) {
    this(databases, new TriggerSync(databases, copy), new LogicalSync(databases, copy));
  }

  SyncActivitiesImpl(Databases databases, SyncMethod trigger, SyncMethod logical) {
    this.databases = databases;
    this.trigger = trigger;
    this.logical = logical;
  }

  @Override
  public SyncCheck checkSync(SyncRequest request) {
    return method(request).check(session(request));
  }

  @Override
  public SyncSetup startSync(SyncRequest request) {
    return method(request).start(session(request));
  }

  @Override
  public SyncSetup adoptCopy(SyncRequest request, String copyKey) {
    return method(request).adoptCopy(session(request), copyKey);
  }

  @Override
  public void applyChanges(SyncRequest request) {
    method(request).apply(session(request));
  }

  @Override
  public SyncLag measureLag(SyncRequest request) {
    return method(request).lag(session(request));
  }

  @Override
  public SyncLag drain(SyncRequest request) {
    return method(request).drain(session(request), AtTheDrain.NOTHING);
  }

  @Override
  public Drained drainWithSequences(SyncRequest request) {
    SyncSession session = session(request);
    SequenceSync[] sequences = new SequenceSync[1];
    SyncLag lag =
        method(request)
            .drain(
                session,
                (source, target) -> {
                  try {
                    sequences[0] = SequenceCopy.copy(source, session.target(), target);
                  } catch (SQLException e) {
                    // Reading the source's sequences barely fails; setting the target's may.
                    throw Databases.failure(session.target(), e);
                  }
                });
    return new Drained(lag, sequences[0]);
  }

  @Override
  public void stopSync(SyncRequest request) {
    method(request).stop(session(request));
  }

  private SyncMethod method(SyncRequest request) {
    return switch (request.method()) {
      case SyncSpec.TRIGGER -> trigger;
      case SyncSpec.LOGICAL -> logical;
      default ->
          throw ApplicationFailure.newNonRetryableFailure(
              "sync.method " + request.method() + " is not trigger or logical", Errors.SYNC_REFUSED);
    };
  }

  private SyncSession session(SyncRequest request) {
    Endpoint source = databases.resolve(Databases.SOURCE, request.databases().sourceUrlRef());
    Endpoint target = databases.resolve(Databases.TARGET, request.databases().targetUrlRef());
    return new SyncSession(request, source, target, Activity.getExecutionContext().getInfo().getWorkflowId());
  }
}
