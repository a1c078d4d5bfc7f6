package dev.ferry.activities.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Bin directories holding only some of the worker's PostgreSQL client tools. */
public final class ToolDirs {
  private ToolDirs() {}

  /** Links {@code tools} from the real client tools' directory into {@code dir}; returns it. */
  public static Path withOnly(Path dir, String... tools) throws IOException {
    Files.createDirectories(dir);
    Path real = Path.of(PgTools.locate(System.getenv()).command("pg_dump")).toRealPath().getParent();
    for (String tool : tools) {
      Files.createSymbolicLink(dir.resolve(tool), real.resolve(tool));
    }
    return dir;
  }
}
