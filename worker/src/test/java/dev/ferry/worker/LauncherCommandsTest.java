package dev.ferry.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ./ferry COMMAND} the READMEs show is one the launcher dispatches: a command
 * documented but missing from its {@code case} ends in "unknown command" for the user who
 * copies it.
 */
class LauncherCommandsTest {
  static final Path ROOT = Path.of(System.getProperty("ferry.repoRoot", ".."));
  private static final Pattern SHOWN = Pattern.compile("\\./ferry ([a-z][a-z-]*)");
  /** A branch of the launcher's command {@code case}: {@code  name|other) …}. */
  private static final Pattern BRANCH = Pattern.compile("(?m)^  ([a-z][a-z|-]*)\\)");

  @Test
  void everyCommandTheReadmesShow_isDispatchedByTheLauncher() throws IOException {
    String launcher = Files.readString(ROOT.resolve("ferry"));
    String dispatch = launcher.substring(launcher.indexOf("case \"$command\" in"));
    Set<String> dispatched = new TreeSet<>();
    Matcher branch = BRANCH.matcher(dispatch);
    while (branch.find()) {
      dispatched.addAll(Set.of(branch.group(1).split("\\|")));
    }
    Set<String> shown = new TreeSet<>();
    for (String readme : new String[] {"README.md", "deploy/README.md", "bench/README.md"}) {
      Matcher command = SHOWN.matcher(Files.readString(ROOT.resolve(readme)));
      while (command.find()) {
        shown.add(command.group(1));
      }
    }

    assertThat(dispatched).contains("demo", "test", "dev");
    assertThat(shown).isNotEmpty().allSatisfy(c -> assertThat(dispatched).as("./ferry " + c).contains(c));
  }
}
