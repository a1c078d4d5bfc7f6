package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.testing.temporal.TemporalDevServer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker that cannot do its job says why in one line, instead of polling forever. */
class WorkerStartTest {
  static TemporalDevServer temporal;
  @TempDir static Path workDir;

  @BeforeAll
  static void startTemporal() {
    temporal = TemporalDevServer.start();
  }

  @AfterAll
  static void stopTemporal() {
    temporal.close();
  }

  @Test
  void aNamespaceThatDoesNotExist_isNamed_withHowToCreateIt() {
    WorkerSettings settings = new WorkerSettings(temporal.address(), "ferry-nowhere", "ferry", "ferry-host-start", workDir, 1);

    assertThatThrownBy(() -> FerryWorker.start(settings, Map.of()))
        .isInstanceOf(FerryWorker.CannotStart.class)
        .hasMessage(
            "namespace ferry-nowhere does not exist on the Temporal server at " + temporal.address()
                + ": create it (temporal operator namespace create --namespace ferry-nowhere) or set TEMPORAL_NAMESPACE");
  }

  @Test
  void aNamespaceWithoutFerrysSearchAttributes_isRefused_namingThemAndHowToRegister() {
    try (TemporalDevServer bare = TemporalDevServer.start(TemporalDevServer.Options.inMemory().withoutSearchAttributes())) {
      WorkerSettings settings = new WorkerSettings(bare.address(), "default", "ferry", "ferry-host-start", workDir, 1);

      assertThatThrownBy(() -> FerryWorker.start(settings, Map.of()))
          .isInstanceOf(FerryWorker.CannotStart.class)
          .hasMessage(
              "namespace default lacks Ferry's search attributes FerryApp, FerryKind, FerryStrategy, FerryPhase (Keyword),"
                  + " without which runs stop at their first step: register each with temporal operator search-attribute"
                  + " create --namespace default --name FerryApp --type Keyword (compose's temporal-setup and ./ferry dev do it)");
    }
  }
}
