package dev.ferry.testing;

import dev.ferry.activity.RunOverlapActivities;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The ledger's answer to "what of this app is running", as the test sets it. */
public class FakeRunOverlap implements RunOverlapActivities {
  private final Map<String, List<String>> running = new ConcurrentHashMap<>();

  public void running(String app, String... runIds) {
    running.put(app, List.of(runIds));
  }

  @Override
  public List<String> runningRunsOf(String app) {
    return running.getOrDefault(app, List.of());
  }
}
