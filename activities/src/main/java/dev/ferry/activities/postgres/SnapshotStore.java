package dev.ferry.activities.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.model.database.Snapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where snapshots live on this worker's host: {@code <root>/<workflow id>/<key>/}, with a
 * {@code ferry-snapshot.json} written last, so a directory without it is a partial dump.
 * Deletes nothing outside its root.
 */
public class SnapshotStore {
  static final String COMPLETE_MARKER = "ferry-snapshot.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;

  public SnapshotStore(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** The directory of a snapshot (the same for every attempt with the same key). */
  Path directoryFor(String workflowId, String idempotencyKey) {
    return root.resolve(safe(workflowId)).resolve(safe(idempotencyKey));
  }

  /** The snapshot a previous attempt finished, if any. */
  Optional<Snapshot> finished(Path directory) {
    Path marker = directory.resolve(COMPLETE_MARKER);
    if (!Files.isRegularFile(marker)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(marker.toFile(), Snapshot.class));
    } catch (IOException e) {
      return Optional.empty(); // a torn marker: treat the dump as partial
    }
  }

  void markFinished(Snapshot snapshot) throws IOException {
    Path dir = Path.of(snapshot.directory());
    Path tmp = dir.resolve(COMPLETE_MARKER + ".tmp");
    JSON.writeValue(tmp.toFile(), snapshot);
    Files.move(tmp, dir.resolve(COMPLETE_MARKER), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Deletes a snapshot directory; refuses any path outside the store's root. */
  void delete(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    if (!dir.startsWith(root) || dir.equals(root)) {
      throw new IllegalArgumentException(dir + " is not a snapshot directory under " + root);
    }
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(SnapshotStore::deleteOne);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path parent = dir.getParent();
    try (Stream<Path> siblings = Files.list(parent)) {
      if (!parent.equals(root) && siblings.findAny().isEmpty()) {
        Files.deleteIfExists(parent);
      }
    } catch (IOException ignored) {
      // Another run's directory appeared or is going; the parent stays.
    }
  }

  static long sizeOf(Path directory) {
    if (!Files.isDirectory(directory)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(Files::isRegularFile).mapToLong(SnapshotStore::size).sum();
    } catch (IOException | UncheckedIOException e) {
      return 0; // the tool is writing: the next heartbeat will tell
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  private static void deleteOne(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String safe(String id) {
    String safe = id.replaceAll("[^A-Za-z0-9._-]", "_");
    return safe.startsWith(".") ? "_" + safe : safe; // never "." or ".."
  }
}
