package dev.ferry.api.testing;

import io.temporal.common.interceptors.WorkflowClientCallsInterceptor;
import io.temporal.common.interceptors.WorkflowClientCallsInterceptorBase;
import io.temporal.common.interceptors.WorkflowClientInterceptorBase;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts the workflows a client starts, so a test can prove a refused request started none. */
public class CountingStarts extends WorkflowClientInterceptorBase {
  private final AtomicInteger starts = new AtomicInteger();

  public int count() {
    return starts.get();
  }

  @Override
  public WorkflowClientCallsInterceptor workflowClientCallsInterceptor(WorkflowClientCallsInterceptor next) {
    return new WorkflowClientCallsInterceptorBase(next) {
      @Override
      public WorkflowStartOutput start(WorkflowStartInput input) {
        starts.incrementAndGet();
        return super.start(input);
      }
    };
  }
}
