package dev.ferry.model.rehearsal;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The database a rehearsal restores into: on the target's server, named {@code
 * ferry_rehearsal_<8 hex>}, dropped when the rehearsal ends.
 *
 * <p>Workflows never hold its URL (it would carry the target's password), only a reference
 * derived from the target's: {@code scratch:ferry_rehearsal_1a2b3c4d@env:TARGET_URL}. The
 * activities resolve the target's reference and swap the database name, and nothing else: same
 * server, same credential. The name must match {@link #NAME}, so such a reference can never
 * point at the production target database (or any other).
 */
public record ScratchDatabase(String name, String targetUrlRef) {
  public static final String PREFIX = "ferry_rehearsal_";
  public static final Pattern NAME = Pattern.compile("ferry_rehearsal_[0-9a-f]{8}");
  private static final String SCHEME = "scratch:";
  private static final Pattern REFERENCE = Pattern.compile("scratch:(ferry_rehearsal_[0-9a-f]{8})@(.+)");
  private static final Pattern REHEARSAL_ID = Pattern.compile(".*-([0-9a-f]{8})");

  public ScratchDatabase {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("a scratch database is named ferry_rehearsal_ and 8 hex digits");
    }
    if (targetUrlRef == null || targetUrlRef.isBlank() || targetUrlRef.startsWith(SCHEME)) {
      throw new IllegalArgumentException("a scratch database needs the target's own reference");
    }
  }

  /**
   * The scratch database of a rehearsal: named after the rehearsal id's 8 hex digits ({@code
   * rehearsal-shop-1a2b3c4d} → {@code ferry_rehearsal_1a2b3c4d}), or after {@code fallbackHex}
   * for an id of another shape (a rehearsal started from the Temporal UI).
   */
  public static ScratchDatabase forRehearsal(String rehearsalId, String fallbackHex, String targetUrlRef) {
    Matcher m = REHEARSAL_ID.matcher(rehearsalId);
    String hex = m.matches() ? m.group(1) : fallbackHex.replace("-", "").substring(0, 8).toLowerCase();
    return new ScratchDatabase(PREFIX + hex, targetUrlRef);
  }

  /** The reference the database activities resolve: {@code scratch:<name>@<target reference>}. */
  public String reference() {
    return SCHEME + name + "@" + targetUrlRef;
  }

  public static boolean isReference(String reference) {
    return reference != null && reference.startsWith(SCHEME);
  }

  /** Reads a reference made by {@link #reference()}; empty for anything else. */
  public static Optional<ScratchDatabase> parse(String reference) {
    if (reference == null) {
      return Optional.empty();
    }
    Matcher m = REFERENCE.matcher(reference);
    if (!m.matches() || m.group(2).startsWith(SCHEME)) {
      return Optional.empty();
    }
    return Optional.of(new ScratchDatabase(m.group(1), m.group(2)));
  }
}
