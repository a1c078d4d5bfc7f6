package dev.ferry.api.testing;

import io.temporal.common.interceptors.WorkflowClientCallsInterceptor;
import io.temporal.common.interceptors.WorkflowClientCallsInterceptorBase;
import io.temporal.common.interceptors.WorkflowClientInterceptorBase;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the workflows a client starts, so a test can prove a refused request started none; keeps
 * the updates it sends, so a test can see what reached the workflow.
 */
public class CountingStarts extends WorkflowClientInterceptorBase {
  private final AtomicInteger starts = new AtomicInteger();
  private final java.util.List<Object> updates = new java.util.concurrent.CopyOnWriteArrayList<>();

  public int count() {
    return starts.get();
  }

  /** The first argument of every update the client sent (the decisions, for the decide update). */
  public java.util.List<Object> updates() {
    return updates;
  }

  @Override
  public WorkflowClientCallsInterceptor workflowClientCallsInterceptor(WorkflowClientCallsInterceptor next) {
    return new WorkflowClientCallsInterceptorBase(next) {
      @Override
      public WorkflowStartOutput start(WorkflowStartInput input) {
        starts.incrementAndGet();
        return super.start(input);
      }

      @Override
      public <R> io.temporal.client.WorkflowUpdateHandle<R> startUpdate(StartUpdateInput<R> input) {
        if (input.getArguments().length > 0) {
          updates.add(input.getArguments()[0]);
        }
        return super.startUpdate(input);
      }
    };
  }
}
