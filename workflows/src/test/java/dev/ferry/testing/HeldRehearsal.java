package dev.ferry.testing;

import dev.ferry.model.rehearsal.RehearsalReport;
import dev.ferry.model.rehearsal.RehearsalRequest;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The workflow type {@code RehearsalWorkflow}, plus a signal that ends a held fake one. */
@WorkflowInterface
public interface HeldRehearsal {
  String FINISH_SIGNAL = "finish";

  @WorkflowMethod(name = "RehearsalWorkflow")
  RehearsalReport rehearse(RehearsalRequest request);

  @SignalMethod(name = FINISH_SIGNAL)
  void finish();
}
