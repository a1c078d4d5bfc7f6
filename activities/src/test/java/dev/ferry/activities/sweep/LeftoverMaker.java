package dev.ferry.activities.sweep;

import dev.ferry.activity.PreverifyActivities;
import dev.ferry.activity.RehearsalActivities;
import dev.ferry.activity.SyncActivities;
import dev.ferry.model.database.DatabasePair;
import dev.ferry.model.rehearsal.ScratchDatabase;
import dev.ferry.model.sync.SyncRequest;
import dev.ferry.model.verify.PreverifyRequest;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;

/**
 * A run that installs what a migration and a rehearsal install (a sync, a pre-verification, a scratch database)
 * through Ferry's own activities, under its own workflow id, and never removes them: what a run
 * leaves when it ends without its teardown (terminated, or lost with its worker or server).
 */
@WorkflowInterface
public interface LeftoverMaker {
  @WorkflowMethod
  void make(String syncMethod, String sourceRef, String targetRef, boolean stayRunning);

  @SignalMethod
  void finish();

  /** {@code made} once everything is installed. */
  @QueryMethod
  String stage();

  class Impl implements LeftoverMaker {
    private final ActivityOptions options =
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(3))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build();
    private final SyncActivities sync = Workflow.newActivityStub(SyncActivities.class, options);
    private final RehearsalActivities rehearsal = Workflow.newActivityStub(RehearsalActivities.class, options);
    private String stage = "making";
    private boolean finished;

    private final PreverifyActivities measure = Workflow.newActivityStub(PreverifyActivities.class, options);
    private final PreverifyActivities preverify =
        Workflow.newActivityStub(
            PreverifyActivities.class,
            ActivityOptions.newBuilder(options)
                .setHeartbeatTimeout(Duration.ofSeconds(5))
                .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
                .build());

    @Override
    public void make(String syncMethod, String sourceRef, String targetRef, boolean stayRunning) {
      DatabasePair pair = new DatabasePair(sourceRef, targetRef);
      SyncRequest request =
          new SyncRequest(Workflow.randomUUID().toString(), pair, syncMethod, 1, "logical".equals(syncMethod) ? "per-run" : null);
      sync.startSync(request);
      // A pre-verification that has set itself up (bookkeeping on the target, key capture on a
      // logical source), then stopped as a cutover stops it: nothing of it is removed.
      PreverifyRequest check = new PreverifyRequest(Workflow.randomUUID().toString(), pair, request);
      CancellationScope proving = Workflow.newCancellationScope(() -> Async.procedure(preverify::preverifyWhileSyncing, check));
      proving.run();
      while (!measure.measurePreverification(check).planned()) {
        Workflow.sleep(Duration.ofMillis(200));
      }
      proving.cancel();
      rehearsal.createScratchDatabase(
          ScratchDatabase.forRehearsal(Workflow.getInfo().getWorkflowId(), Workflow.randomUUID().toString(), targetRef));
      stage = "made";
      if (stayRunning) {
        Workflow.await(() -> finished);
      }
    }

    @Override
    public void finish() {
      finished = true;
    }

    @Override
    public String stage() {
      return stage;
    }
  }
}
