package dev.ferry.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.model.Errors;
import dev.ferry.model.RunState;
import dev.ferry.model.RunStatus;
import dev.ferry.model.StepState;
import dev.ferry.model.runbook.Runbook;
import dev.ferry.testing.FakeDatabases;
import dev.ferry.testing.Runbooks;
import io.temporal.client.WorkflowFailedException;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A failure injected at every step of both strategies, with either copy method, in turn: the run
 * fails with that step's error, and exactly the steps that had changed the world are undone,
 * newest first. (The streaming copy's forward {@code endCopy}, which drops its bookkeeping once
 * it is verified, is listed where the run got that far.)
 */
class CompensationTest extends WorkflowTestBase {
  private static final Set<String> UNDOING = Set.of("unfreezeSource", "dropPreverification", "stopSync", "endCopy");

  /**
   * After the freeze, a multi-phase run (its initial copy streamed, and ended on the way forward)
   * undoes the freeze, its pre-verification and its sync, newest first.
   */
  private static final List<String> UNDO_FROZEN = List.of("endCopy", "unfreezeSource", "dropPreverification", "stopSync");
  private static final List<String> UNDONE_FROZEN = List.of("freeze-source", "pre-verify", "start-sync");

  static Stream<Arguments> failures() {
    return Stream.of(
        single("preflight", d -> d.preflightFailure = boom(), List.of(), List.of()),
        single("freeze-source", d -> d.freezeFailure = boom(), List.of("unfreezeSource"), List.of("freeze-source")),
        single("copy", d -> d.planFailure = boom(), List.of("endCopy", "unfreezeSource"), List.of("copy", "freeze-source")),
        single("copy", d -> d.copyFailure = boom(), List.of("endCopy", "unfreezeSource"), List.of("copy", "freeze-source")),
        single("copy", d -> d.finishFailure = boom(), List.of("endCopy", "unfreezeSource"), List.of("copy", "freeze-source")),
        single("verify", d -> d.verifyFailure = boom(), List.of("endCopy", "unfreezeSource"), List.of("copy", "freeze-source")),
        // The copy was verified and its bookkeeping dropped on the way forward: nothing of it to undo.
        single("sync-sequences", d -> d.sequenceFailure = boom(), List.of("endCopy", "unfreezeSource"), List.of("freeze-source")),
        dump("snapshot", d -> d.snapshotFailure = boom(), List.of("unfreezeSource"), List.of("snapshot", "freeze-source")),
        dump(
            "restore",
            d -> d.restoreFailure = boom(),
            List.of("discardSnapshot", "unfreezeSource"),
            List.of("snapshot", "freeze-source")),
        dump(
            "verify",
            d -> d.verifyFailure = boom(),
            List.of("discardSnapshot", "unfreezeSource"),
            List.of("snapshot", "freeze-source")),
        dump(
            "sync-sequences",
            d -> d.sequenceFailure = boom(),
            List.of("discardSnapshot", "unfreezeSource"),
            List.of("snapshot", "freeze-source")),
        multi("preflight", d -> d.preflightFailure = boom(), List.of(), List.of()),
        multi("start-sync", d -> d.startSyncFailure = boom(), List.of("stopSync"), List.of("start-sync")),
        multiDump("start-sync", d -> d.startSyncFailure = boom(), List.of("stopSync"), List.of("start-sync")),
        multi("copy", d -> d.copyFailure = boom(), List.of("endCopy", "stopSync"), List.of("copy", "start-sync")),
        multi("copy", d -> d.adoptCopyFailure = boom(), List.of("endCopy", "stopSync"), List.of("copy", "start-sync")),
        // The first measurement finds a lag, so the run waits (a timer) before the failing one:
        // the background apply's completion is in history by then. Failing at once raced it,
        // and the test server wedges on a cancel of an activity it has just completed.
        multi(
            "catch-up",
            d -> {
              d.lags.clear();
              d.lags.add(600_000L);
              d.measureLagSucceeds = 1;
              d.measureLagFailure = boom();
            },
            List.of("endCopy", "dropPreverification", "stopSync"),
            List.of("pre-verify", "start-sync")),
        multi("freeze-source", d -> d.freezeFailure = boom(), UNDO_FROZEN, UNDONE_FROZEN),
        multi("drain", d -> d.drainFailure = boom(), UNDO_FROZEN, UNDONE_FROZEN),
        // The drain sets the sequences at its end (drain-syncs-sequences): their failure is the drain's.
        multi("drain", d -> d.sequenceFailure = boom(), UNDO_FROZEN, UNDONE_FROZEN),
        // The final verify of a pre-verified run (verifyChangedSincePreverified) fails.
        multi("verify", d -> d.verifyFailure = boom(), UNDO_FROZEN, UNDONE_FROZEN));
  }

  @ParameterizedTest(name = "{0}: failure at {1}")
  @MethodSource("failures")
  void failureAtAStep_undoesExactlyWhatRanNewestFirst(
      String strategy, String failingStep, Consumer<FakeDatabases> inject, List<String> undoCalls, List<String> undoneSteps) {
    inject.accept(databases);
    Runbook runbook =
        switch (strategy) {
          case "single-phase" -> Runbooks.shop();
          case "single-phase, dump" -> Runbooks.shopWithDump();
          case "multi-phase, dump" -> Runbooks.shopMultiPhaseWithDump();
          default -> Runbooks.shopMultiPhase();
        };
    MigrationWorkflow run = failingStep.equals("preflight") ? start(runbook) : startApproved(runbook);
    if (strategy.startsWith("multi-phase") && List.of("freeze-source", "drain", "verify").contains(failingStep)) {
      awaitGate(run, "cutover");
      run.decide(approve("cutover", APPROVER));
    }

    assertThatThrownBy(() -> resultOf(run))
        .isInstanceOf(WorkflowFailedException.class)
        .cause()
        .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(Errors.STEP_FAILED));
    RunStatus status = run.status();
    assertThat(status.state()).isEqualTo(RunState.FAILED);
    assertThat(status.failure()).startsWith(failingStep + ": injected");
    assertThat(databases.calls().stream().map(c -> c.split(" ")[0]).filter(c -> UNDOING.contains(c) || c.equals("discardSnapshot")))
        .containsExactlyElementsOf(undoCalls);
    assertThat(status.steps()).filteredOn(s -> s.state() == StepState.COMPENSATED).extracting(s -> s.name())
        .containsExactlyInAnyOrderElementsOf(undoneSteps);
    assertThat(status.compensations()).isEmpty();
  }

  private static ApplicationFailure boom() {
    return ApplicationFailure.newNonRetryableFailure("injected", Errors.STEP_FAILED);
  }

  private static Arguments single(String step, Consumer<FakeDatabases> inject, List<String> calls, List<String> undone) {
    return Arguments.of("single-phase", step, inject, calls, undone);
  }

  private static Arguments dump(String step, Consumer<FakeDatabases> inject, List<String> calls, List<String> undone) {
    return Arguments.of("single-phase, dump", step, inject, calls, undone);
  }

  private static Arguments multiDump(String step, Consumer<FakeDatabases> inject, List<String> calls, List<String> undone) {
    return Arguments.of("multi-phase, dump", step, inject, calls, undone);
  }

  private static Arguments multi(String step, Consumer<FakeDatabases> inject, List<String> calls, List<String> undone) {
    return Arguments.of("multi-phase", step, inject, calls, undone);
  }
}
