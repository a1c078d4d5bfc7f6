package dev.ferry.model;

import io.temporal.common.SearchAttributeKey;
import java.util.List;

/**
 * The search attributes Ferry's workflows set on their runs, so the Temporal UI and CLI find
 * them: {@code temporal workflow list --query 'FerryApp="shop" AND FerryPhase="awaiting
 * approval: cutover"'}. All Keyword (exact match); the namespace must have them registered
 * ({@code ./ferry dev} and compose's set-up job do; a worker refuses to start without them).
 */
public final class RunSearchAttributes {
  /** The runbook's {@code app}. */
  public static final SearchAttributeKey<String> APP = SearchAttributeKey.forKeyword("FerryApp");
  /** {@code migration} or {@code rehearsal} ({@link RunKind#label()}). */
  public static final SearchAttributeKey<String> KIND = SearchAttributeKey.forKeyword("FerryKind");
  /** {@code single-phase} or {@code multi-phase}. */
  public static final SearchAttributeKey<String> STRATEGY = SearchAttributeKey.forKeyword("FerryStrategy");
  /**
   * What the run does now, as its status query calls it ({@link RunStatus#phase()}): a step's
   * name while it runs ({@code snapshot}), {@code awaiting approval: <gate>} while a gate waits,
   * {@code compensating: <step>} while a rollback undoes a step, and at the end {@code
   * succeeded}, {@code failed}, {@code rejected} or {@code cancelled}.
   */
  public static final SearchAttributeKey<String> PHASE = SearchAttributeKey.forKeyword("FerryPhase");

  public static final List<SearchAttributeKey<String>> ALL = List.of(APP, KIND, STRATEGY, PHASE);

  /** The phase of a run waiting at {@code gate}: what a list query asks for to find such runs. */
  public static String awaitingApproval(String gate) {
    return "awaiting approval: " + gate;
  }

  /**
   * A visibility query term {@code Name = "value"}, the value quoted for Temporal's SQL-like
   * list filter.
   */
  public static String equalsTerm(SearchAttributeKey<String> key, String value) {
    return key.getName() + " = " + quote(value);
  }

  /** A string literal of the list filter: double quotes, with backslash and quote escaped. */
  public static String quote(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private RunSearchAttributes() {}
}
