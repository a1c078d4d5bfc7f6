package dev.ferry.worker.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What deploy/Dockerfile says about each image, read without an engine: its stages, what each
 * stage copies from the repository or from the build stage, and the command it runs. A copy
 * from the build stage is named by its path in the repository (the build stage works in a copy
 * of the repository at /src).
 */
public final class Dockerfile {
  private static final String BUILD_ROOT = "/src/";

  /** One COPY: {@code source} relative to the repository root, {@code destination} in the image. */
  public record Copy(String stage, boolean fromBuild, String source, String destination) {}

  public record Stage(String name, String base, List<Copy> copies, List<String> entrypoint, List<String> cmd) {
    /** ENTRYPOINT + CMD. */
    public List<String> command() {
      List<String> command = new ArrayList<>(entrypoint);
      command.addAll(cmd);
      return command;
    }
  }

  private final Map<String, Stage> stages;

  private Dockerfile(Map<String, Stage> stages) {
    this.stages = stages;
  }

  public static Path path() {
    return Path.of(System.getProperty("ferry.repoRoot", "..")).resolve("deploy/Dockerfile");
  }

  public static Dockerfile read(Path file) throws IOException {
    Map<String, Stage> stages = new LinkedHashMap<>();
    String stage = null;
    String base = null;
    List<Copy> copies = null;
    List<String> entrypoint = List.of();
    List<String> cmd = List.of();
    for (String instruction : instructions(Files.readAllLines(file))) {
      String[] words = instruction.split("\\s+");
      switch (words[0].toUpperCase()) {
        case "FROM" -> {
          if (stage != null) {
            stages.put(stage, new Stage(stage, base, copies, entrypoint, cmd));
          }
          base = words[1];
          stage = words.length >= 4 && words[2].equalsIgnoreCase("AS") ? words[3] : "stage" + stages.size();
          copies = new ArrayList<>();
          entrypoint = List.of();
          cmd = List.of();
        }
        case "COPY" -> {
          boolean fromBuild = false;
          List<String> args = new ArrayList<>();
          for (int i = 1; i < words.length; i++) {
            if (words[i].startsWith("--from=")) {
              fromBuild = true;
            } else if (!words[i].startsWith("--")) {
              args.add(words[i]);
            }
          }
          String destination = args.get(args.size() - 1);
          for (String source : args.subList(0, args.size() - 1)) {
            if (fromBuild && !source.startsWith(BUILD_ROOT)) {
              throw new IllegalStateException("a copy from the build stage outside " + BUILD_ROOT + ": " + instruction);
            }
            copies.add(new Copy(stage, fromBuild, fromBuild ? source.substring(BUILD_ROOT.length()) : source, destination));
          }
        }
        case "ENTRYPOINT" -> entrypoint = jsonArray(instruction);
        case "CMD" -> cmd = jsonArray(instruction);
        default -> { }
      }
    }
    if (stage != null) {
      stages.put(stage, new Stage(stage, base, copies, entrypoint, cmd));
    }
    return new Dockerfile(stages);
  }

  public Stage stage(String name) {
    Stage stage = stages.get(name);
    if (stage == null) {
      throw new IllegalArgumentException("deploy/Dockerfile has no stage " + name);
    }
    return stage;
  }

  public List<Stage> stages() {
    return List.copyOf(stages.values());
  }

  /** Instructions with line continuations joined and comments dropped. */
  private static List<String> instructions(List<String> lines) {
    List<String> instructions = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : lines) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
        continue;
      }
      if (trimmed.endsWith("\\")) {
        current.append(trimmed, 0, trimmed.length() - 1).append(' ');
        continue;
      }
      current.append(trimmed);
      if (current.length() > 0) {
        instructions.add(current.toString().strip());
      }
      current.setLength(0);
    }
    return instructions;
  }

  private static List<String> jsonArray(String instruction) {
    String json = instruction.substring(instruction.indexOf('['));
    try {
      return new ObjectMapper().readValue(json, new TypeReference<List<String>>() {});
    } catch (IOException e) {
      throw new IllegalStateException("not the exec (JSON) form: " + instruction, e);
    }
  }
}
