package dev.ferry.testing;

import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import io.temporal.workflow.Workflow;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Stands in for the real {@code RehearsalWorkflow} (same workflow type) so schedule tests do
 * not depend on it: a rehearsal of an app whose name starts with {@code held} runs until it gets
 * the {@code finish} signal (so fires can overlap it); any other returns a report at once.
 * Every request it received is kept in {@link #REQUESTS}.
 */
public class FakeRehearsalWorkflow implements HeldRehearsal {
  public static final Queue<RehearsalRequest> REQUESTS = new ConcurrentLinkedQueue<>();
  public static final String FINISH_SIGNAL = HeldRehearsal.FINISH_SIGNAL;

  private boolean finished;

  @Override
  public RehearsalReport rehearse(RehearsalRequest request) {
    if (!Workflow.isReplaying()) {
      REQUESTS.add(request);
    }
    if (request.runbook().app().startsWith("held")) {
      Workflow.await(() -> finished);
    }
    Instant now = Instant.ofEpochMilli(Workflow.currentTimeMillis());
    return new RehearsalReport(
        Workflow.getInfo().getWorkflowId(), request.runbook().app(), "single-phase", now, now, true, List.of(), 0, 0, "ok", null, List.of(), null, null);
  }

  @Override
  public void finish() {
    finished = true;
  }
}
