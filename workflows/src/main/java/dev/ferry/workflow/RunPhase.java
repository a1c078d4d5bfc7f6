package dev.ferry.workflow;

import static dev.ferry.model.RunSearchAttributes.APP;
import static dev.ferry.model.RunSearchAttributes.KIND;
import static dev.ferry.model.RunSearchAttributes.PHASE;
import static dev.ferry.model.RunSearchAttributes.STRATEGY;

import dev.ferry.model.RunKind;
import dev.ferry.model.RunSearchAttributes;
import dev.ferry.model.runbook.Runbook;
import io.temporal.common.SearchAttributeUpdate;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;

/**
 * Publishes a run to Temporal's visibility as it moves ({@link RunSearchAttributes}): its app,
 * kind and strategy with its first phase, then each new phase of its {@link RunRecord}, the
 * same words its status query shows. One upsert per change, none for a phase already published.
 */
final class RunPhase {
  /** Added when runs without search attributes existed: those replay without the upserts. */
  static final String VERSION = "search-attributes";

  private final RunKind kind;
  private final String app;
  private final String strategy;
  private String published;

  private RunPhase(RunKind kind, Runbook runbook) {
    this.kind = kind;
    this.app = runbook.app();
    this.strategy = runbook.strategy().label();
  }

  /** From now on, publishes each phase {@code record} changes to, on runs begun with this code. */
  static void publish(RunRecord record, RunKind kind, Runbook runbook) {
    if (Workflow.getVersion(VERSION, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION) {
      return;
    }
    record.onPhaseChange(new RunPhase(kind, runbook)::changed);
  }

  private void changed(String phase) {
    if (phase.equals(published)) {
      return;
    }
    List<SearchAttributeUpdate<?>> updates = new ArrayList<>();
    if (published == null) {
      updates.add(APP.valueSet(app));
      updates.add(KIND.valueSet(kind.label()));
      updates.add(STRATEGY.valueSet(strategy));
    }
    updates.add(PHASE.valueSet(phase));
    Workflow.upsertTypedSearchAttributes(updates.toArray(SearchAttributeUpdate<?>[]::new));
    published = phase;
  }
}
