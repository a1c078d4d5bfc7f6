package dev.ferry.activities.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.model.database.Snapshot;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.StandardOpenOption;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where snapshots live on this worker's host: {@code <root>/<workflow id>/<key>/}, with a
 * {@code ferry-snapshot.json} written last, so a directory without it is a partial dump, and a
 * {@code <key>.lock} beside it that the process writing the dump holds. Deletes nothing outside
 * its root.
 */
public class SnapshotStore {
  static final String COMPLETE_MARKER = "ferry-snapshot.json";
  private static final Logger log = LoggerFactory.getLogger(SnapshotStore.class);
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

  /**
   * Takes the lock of a snapshot directory, held while a dump is written there; empty when
   * another process on this host holds it.
   */
  Optional<Lock> lock(Path directory) throws IOException {
    Path lockFile = lockFileOf(directory);
    Files.createDirectories(lockFile.getParent());
    FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.tryLock();
      if (lock != null) {
        return Optional.of(new Lock(channel, lock, lockFile));
      }
    } catch (OverlappingFileLockException heldInThisJvm) {
      // Another activity in this worker holds it.
    }
    channel.close();
    return Optional.empty();
  }

  /** A held snapshot lock; closing it releases and deletes the lock file. */
  static final class Lock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;
    private final Path file;

    private Lock(FileChannel channel, FileLock lock, Path file) {
      this.channel = channel;
      this.lock = lock;
      this.file = file;
    }

    @Override
    public void close() throws IOException {
      Files.deleteIfExists(file);
      lock.release();
      channel.close();
    }
  }

  /**
   * Deletes the partial dumps that no live process is writing: what a worker killed mid-dump
   * left behind (its retry may have run on another host). They hold production data. Runs when
   * a worker starts; returns how many it deleted.
   */
  public int sweepAbandoned() {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    int deleted = 0;
    try (Stream<Path> runs = Files.list(root)) {
      for (Path run : runs.filter(Files::isDirectory).toList()) {
        try (Stream<Path> dumps = Files.list(run)) {
          for (Path dump : dumps.filter(Files::isDirectory).toList()) {
            if (Files.exists(dump.resolve(COMPLETE_MARKER))) {
              continue;
            }
            Optional<Lock> lock = lock(dump);
            if (lock.isEmpty()) {
              continue; // being written right now
            }
            try (Lock held = lock.get()) {
              delete(dump);
              deleted++;
              log.warn("deleted the partial snapshot {} that a dead worker left", dump);
            }
          }
        }
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not sweep abandoned snapshots in {}: {}", root, e.getMessage());
    }
    return deleted;
  }

  /** The names of the run directories here: each is a run's workflow id (characters outside [A-Za-z0-9._-] replaced). */
  public java.util.List<String> runDirectories() {
    if (!Files.isDirectory(root)) {
      return java.util.List.of();
    }
    try (Stream<Path> runs = Files.list(root)) {
      return runs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not list the snapshots in {}: {}", root, e.getMessage());
      return java.util.List.of();
    }
  }

  /**
   * Deletes the dumps, complete or partial, of one run directory that were last changed before
   * {@code changedBefore} and that no process is writing (their lock is free): for the sweep,
   * which calls it only for runs the ledger shows ended. Returns the directories deleted.
   */
  public java.util.List<Path> deleteDumpsOf(String runDirectory, java.time.Instant changedBefore) {
    Path run = root.resolve(runDirectory).normalize();
    if (!run.getParent().equals(root) || !Files.isDirectory(run)) {
      return java.util.List.of();
    }
    java.util.List<Path> deleted = new java.util.ArrayList<>();
    try (Stream<Path> dumps = Files.list(run)) {
      for (Path dump : dumps.filter(Files::isDirectory).toList()) {
        if (Files.getLastModifiedTime(dump).toInstant().isAfter(changedBefore)) {
          continue;
        }
        Optional<Lock> lock = lock(dump);
        if (lock.isEmpty()) {
          continue; // being written right now
        }
        try (Lock held = lock.get()) {
          delete(dump);
          deleted.add(dump);
        }
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not sweep the snapshots of {}: {}", run, e.getMessage());
    }
    try (Stream<Path> left = Files.list(run)) {
      if (left.findAny().isEmpty()) {
        Files.deleteIfExists(run);
      }
    } catch (IOException e) {
      // Something appeared, or went: the directory stays until the next sweep.
    }
    return deleted;
  }

  private static Path lockFileOf(Path directory) {
    return directory.resolveSibling(directory.getFileName() + ".lock");
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
      // The parent (one per workflow) goes with its last snapshot; a lock file keeps it.
      if (!parent.equals(root) && siblings.findAny().isEmpty()) {
        Files.deleteIfExists(parent);
      }
    } catch (IOException ignored) {
      // Another run's directory appeared or is going; the parent stays.
    }
  }

  public static long sizeOf(Path directory) {
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
