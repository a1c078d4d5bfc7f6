package dev.ferry.testing.temporal;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.interceptors.ActivityExecutionContextBase;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.common.WorkflowExecutionHistory;
import java.util.List;

/**
 * How much of Temporal a run takes: the largest payload it put anywhere Temporal keeps or carries
 * one (workflow and activity inputs and results, signals, updates, markers and search attributes
 * in its history; heartbeats; query results), and its history's length and size. For checking
 * that none of them grows with the size of the database.
 *
 * <p>Heartbeats never reach history unless an attempt fails, so they are measured where the
 * activity makes them: install {@link #heartbeatMeter()} as a worker interceptor. Query results are
 * measured as the client receives them: pass each to {@link #query}.
 */
public final class RunFootprint {
  private final DataConverter converter;
  private Largest largest = new Largest(0, "nothing yet");
  private int largestHeartbeat;
  private int largestQuery;
  private long heartbeatCount;

  /** @param converter the data converter worker and client use (payload sizes are its bytes) */
  public RunFootprint(DataConverter converter) {
    this.converter = converter;
  }

  /** The largest payload seen and where it was. */
  public record Largest(int bytes, String where) {}

  public synchronized Largest largest() {
    return largest;
  }

  public synchronized int largestHeartbeat() {
    return largestHeartbeat;
  }

  public synchronized int largestQuery() {
    return largestQuery;
  }

  public synchronized long heartbeats() {
    return heartbeatCount;
  }

  private synchronized void seen(int bytes, String where) {
    if (bytes > largest.bytes()) {
      largest = new Largest(bytes, where);
    }
  }

  private int bytes(Object value) {
    return converter.toPayload(value).map(Payload::getSerializedSize).orElse(0);
  }

  /** Measures a query's result as the client received it; returns it. */
  public <T> T query(String name, T result) {
    int bytes = bytes(result);
    synchronized (this) {
      largestQuery = Math.max(largestQuery, bytes);
    }
    seen(bytes, "query " + name);
    return result;
  }

  /** Measures every payload in a run's history. */
  public void history(WorkflowExecutionHistory history) {
    for (HistoryEvent event : history.getEvents()) {
      String where = "event " + event.getEventId() + " " + event.getEventType().name().replace("EVENT_TYPE_", "");
      payloads(event, bytes -> seen(bytes, where));
    }
  }

  /** Every {@link Payload} anywhere in {@code message}, found through the protobuf descriptors. */
  static void payloads(Message message, java.util.function.IntConsumer sizes) {
    if (message instanceof Payload payload) {
      sizes.accept(payload.getSerializedSize());
      return;
    }
    for (var field : message.getAllFields().entrySet()) {
      FieldDescriptor descriptor = field.getKey();
      if (descriptor.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (descriptor.isRepeated()) {
        for (Object element : (List<?>) field.getValue()) {
          payloads((Message) element, sizes);
        }
      } else {
        payloads((Message) field.getValue(), sizes);
      }
    }
  }

  /** A worker interceptor measuring every heartbeat's details before the SDK sends (or throttles) it. */
  public WorkerInterceptorBase heartbeatMeter() {
    return new WorkerInterceptorBase() {
      @Override
      public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
        return new ActivityInboundCallsInterceptorBase(next) {
          @Override
          public void init(ActivityExecutionContext context) {
            String type = context.getInfo().getActivityType();
            super.init(
                new ActivityExecutionContextBase(context) {
                  @Override
                  public <V> void heartbeat(V details) {
                    int bytes = bytes(details);
                    synchronized (RunFootprint.this) {
                      heartbeatCount++;
                      largestHeartbeat = Math.max(largestHeartbeat, bytes);
                    }
                    seen(bytes, "heartbeat of " + type);
                    super.heartbeat(details);
                  }
                });
          }
        };
      }
    };
  }
}
