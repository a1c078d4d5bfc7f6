package dev.ferry.model;

/** What a run is for. Runs of every kind share the ledger; the API lists them by kind. */
public enum RunKind {
  /** Moves the app's database for real. */
  MIGRATION,
  /** Restores the latest snapshot into a scratch database, verifies and times it (issue 8). */
  REHEARSAL;

  /** The kind as the API and the ledger write it: {@code migration}, {@code rehearsal}. */
  public String label() {
    return name().toLowerCase();
  }
}
