package dev.ferry.activities.sweep;

import dev.ferry.activity.CopyActivities;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.database.DatabasePair;
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
 * A run whose streaming copy began (its snapshot held, the plan made: the bookkeeping is on the
 * target) and that never ended it: what a run leaves when it ends without its compensation.
 * Through Ferry's own copy activities, under its own workflow id.
 */
@WorkflowInterface
public interface CopyLeftoverMaker {
  @WorkflowMethod
  void make(String sourceRef, String targetRef, boolean stayRunning);

  @SignalMethod
  void finish();

  /** {@code made} once the copy's bookkeeping is there. */
  @QueryMethod
  String stage();

  class Impl implements CopyLeftoverMaker {
    private final ActivityOptions options =
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(3))
            .setHeartbeatTimeout(Duration.ofSeconds(5))
            .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build();
    private final CopyActivities copy = Workflow.newActivityStub(CopyActivities.class, options);
    private String stage = "making";
    private boolean finished;

    @Override
    public void make(String sourceRef, String targetRef, boolean stayRunning) {
      CopyRequest request =
          new CopyRequest(Workflow.randomUUID().toString(), new DatabasePair(sourceRef, targetRef), 1, CopyRequest.FROZEN, 1, 0);
      CancellationScope holding = Workflow.newCancellationScope(() -> Async.procedure(copy::holdSnapshot, request));
      holding.run();
      copy.planCopy(request);
      holding.cancel();
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
