package dev.ferry.api.schedules;

import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.model.schedule.ScheduleCommand;
import dev.ferry.model.schedule.ScheduleDefinition;
import io.dropwizard.lifecycle.Managed;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings back, when the API starts, the workflow-kept schedules Temporal has no record of: the
 * embedded server keeps everything in memory, so after {@code ./ferry dev} restarts, the
 * ledger's schedules would otherwise never fire again. A schedule whose workflow ended (deleted,
 * or terminated from the Temporal UI) is left alone; one paused through the API comes back
 * paused. Its recent fires are lost with the old server.
 */
public class ScheduleRestorer implements Managed {
  private static final Logger log = LoggerFactory.getLogger(ScheduleRestorer.class);
  static final String RESTORER = "ferry";

  private final RehearsalSchedules schedules;
  private final ScheduleRegistry registry;

  public ScheduleRestorer(RehearsalSchedules schedules, ScheduleRegistry registry) {
    this.schedules = schedules;
    this.registry = registry;
  }

  @Override
  public void start() {
    try {
      int restored = restore();
      if (restored > 0) {
        log.info("{} rehearsal schedule(s) Temporal had lost were created again", restored);
      }
    } catch (Exception e) {
      // The API starts anyway: the list shows such schedules as MISSING, saying what to do.
      log.warn("could not check the rehearsal schedules against Temporal: {}", e.getMessage());
    }
  }

  /** @return how many schedules were created again */
  public int restore() throws Exception {
    if (!(schedules instanceof WorkflowSchedules workflows)) {
      return 0; // Temporal keeps native schedules itself; a missing one was deleted there.
    }
    int restored = 0;
    for (ScheduleRegistry.Entry e : registry.list(null)) {
      if (!"ACTIVE".equals(e.state()) || !RehearsalSchedules.WORKFLOW.equals(e.backend()) || !workflows.unknownToTemporal(e.scheduleId())) {
        continue;
      }
      Optional<ScheduleDefinition> definition = registry.definition(e.scheduleId());
      if (definition.isEmpty()) {
        continue;
      }
      workflows.create(definition.get());
      if (e.paused()) {
        workflows.pause(e.scheduleId(), new ScheduleCommand(RESTORER, "paused before Temporal restarted"));
      }
      log.info("rehearsal schedule {} ({}) created again: Temporal had no record of it", e.scheduleId(), e.app());
      restored++;
    }
    return restored;
  }
}
