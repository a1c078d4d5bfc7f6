package dev.ferry.activity;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/** What a rehearsal schedule asks before it fires: is anything of this app running? */
@ActivityInterface
public interface RunOverlapActivities {
  /**
   * The migrations and rehearsals of {@code app} that are running now: the ledger's runs of the
   * app that have not ended, each confirmed with Temporal (a run the ledger still shows running
   * but Temporal has closed, or no longer knows, is not listed). Empty without a ledger. Reads
   * only; retryable when the ledger or Temporal cannot be reached.
   */
  @ActivityMethod
  List<String> runningRunsOf(String app);
}
