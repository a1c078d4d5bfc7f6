package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
  @TempDir Path root;

  @Test
  void sweep_deletesPartialDumpsNobodyWrites_keepsFinishedAndLockedOnes() throws Exception {
    SnapshotStore store = new SnapshotStore(root);
    Path partial = Files.createDirectories(store.directoryFor("migration-a", "k1"));
    Files.writeString(partial.resolve("3396.dat.gz"), "half");
    Path finished = Files.createDirectories(store.directoryFor("migration-b", "k2"));
    Files.writeString(finished.resolve(SnapshotStore.COMPLETE_MARKER), "{}");
    Path beingWritten = Files.createDirectories(store.directoryFor("migration-c", "k3"));

    int swept;
    try (SnapshotStore.Lock held = store.lock(beingWritten).orElseThrow()) {
      swept = store.sweepAbandoned();
    }

    assertThat(swept).isOne();
    assertThat(partial).doesNotExist();
    assertThat(finished).exists();
    assertThat(beingWritten).exists();
  }

  @Test
  void lock_isExclusiveWhileHeld() throws Exception {
    SnapshotStore store = new SnapshotStore(root);
    Path dir = store.directoryFor("migration-a", "k1");

    try (SnapshotStore.Lock first = store.lock(dir).orElseThrow()) {
      assertThat(store.lock(dir)).isEmpty();
    }
    assertThat(store.lock(dir)).isPresent();
  }

  @Test
  void workflowIdsCannotEscapeTheRoot() {
    SnapshotStore store = new SnapshotStore(root);

    assertThat(store.directoryFor("..", "..").normalize().startsWith(root)).isTrue();
    assertThat(store.directoryFor("../../etc", "x").normalize().startsWith(root)).isTrue();
  }
}
