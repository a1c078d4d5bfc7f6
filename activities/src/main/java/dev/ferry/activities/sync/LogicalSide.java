package dev.ferry.activities.sync;

import dev.ferry.activities.postgres.Databases;
import dev.ferry.activities.postgres.Endpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One side's connection for the logical sync, so that the classes that talk to each side read as
 * SQL and nothing else: every server error becomes the failure {@link Databases#failure} makes
 * of it (final or retryable, naming the side), with the source's password masked out of the
 * message. The password can only reach a message through the subscription's connection string,
 * which PostgreSQL does not echo, but an error text is not the place to find out otherwise.
 */
final class LogicalSide implements AutoCloseable {
  /** Reads one row. */
  interface Row<T> {
    T read(ResultSet rs) throws SQLException;
  }

  /** Works on the connection itself, for code written against JDBC ({@link SchemaWatch}). */
  interface Call<T> {
    T apply(Connection connection) throws SQLException;
  }

  private final Endpoint endpoint;
  private final Connection connection;
  /** Every password this side's statements may hold; masked out of every error. */
  private final List<LogicalConnInfo> secrets = new java.util.concurrent.CopyOnWriteArrayList<>();

  private LogicalSide(Endpoint endpoint, Connection connection, LogicalConnInfo secret) {
    this.endpoint = endpoint;
    this.connection = connection;
    this.secrets.add(secret);
  }

  /** From now on, masks {@code secret}'s password out of this side's errors too. */
  void hide(LogicalConnInfo secret) {
    secrets.add(secret);
  }

  private String mask(String text) {
    for (LogicalConnInfo secret : secrets) {
      text = secret.mask(text);
    }
    return text;
  }

  /** Connects, as {@code applicationName}; {@code secret} is what to mask in errors. */
  static LogicalSide open(Databases databases, Endpoint endpoint, String applicationName, LogicalConnInfo secret) {
    return new LogicalSide(endpoint, databases.connect(endpoint, applicationName), secret);
  }

  /** Wraps a connection already open (one that must pass the source's write fence). */
  static LogicalSide of(Endpoint endpoint, Connection connection, LogicalConnInfo secret) {
    return new LogicalSide(endpoint, connection, secret);
  }

  Endpoint endpoint() {
    return endpoint;
  }

  void execute(String sql, Object... parameters) {
    try (PreparedStatement ps = prepare(sql, parameters)) {
      ps.execute();
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  /**
   * {@link #execute}, except that a server error whose SQLSTATE starts with {@code sqlState}
   * (such as 42501, not allowed) becomes what {@code refusal} makes of its message, password
   * masked: for errors that a retry cannot fix and that deserve their own words.
   */
  void executeOrRefuse(String sql, String sqlState, java.util.function.Function<String, RuntimeException> refusal) {
    try (PreparedStatement ps = prepare(sql)) {
      ps.execute();
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith(sqlState)) {
        throw refusal.apply(mask(e.getMessage()));
      }
      throw failure(e);
    }
  }

  /**
   * {@link #executeOrRefuse(String, String, java.util.function.Function)} for two classes of
   * errors, for a statement that may wait long (creating a replication slot waits until every
   * transaction running on the source has ended): {@code whileWaiting} runs every second until
   * it is done (a heartbeat); when it throws (the activity was cancelled), the statement is
   * cancelled and that is thrown.
   */
  void executeOrRefuse(
      String sql,
      String sqlState,
      java.util.function.Function<String, RuntimeException> refusal,
      String otherState,
      java.util.function.Function<String, RuntimeException> otherRefusal,
      Runnable whileWaiting) {
    java.util.concurrent.ExecutorService one =
        java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "ferry-statement");
              t.setDaemon(true);
              return t;
            });
    try {
      java.util.concurrent.Future<Void> running =
          one.submit(
              () -> {
                try (PreparedStatement ps = prepare(sql)) {
                  ps.execute();
                }
                return null;
              });
      while (true) {
        try {
          running.get(1, java.util.concurrent.TimeUnit.SECONDS);
          return;
        } catch (java.util.concurrent.TimeoutException stillRunning) {
          try {
            whileWaiting.run();
          } catch (RuntimeException stop) {
            cancelQuietly();
            throw stop;
          }
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof SQLException sql2)) {
            throw new IllegalStateException(e.getCause());
          }
          String state = sql2.getSQLState() == null ? "" : sql2.getSQLState();
          if (state.startsWith(sqlState)) {
            throw refusal.apply(mask(sql2.getMessage()));
          }
          if (state.startsWith(otherState)) {
            throw otherRefusal.apply(mask(sql2.getMessage()));
          }
          throw failure(sql2);
        } catch (InterruptedException e) {
          cancelQuietly();
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the server", e);
        }
      }
    } finally {
      one.shutdown();
    }
  }

  private void cancelQuietly() {
    try {
      connection.unwrap(org.postgresql.PGConnection.class).cancelQuery();
    } catch (SQLException e) {
      // The connection is closed next anyway.
    }
  }

  /** {@link #execute}; returns false, doing nothing, when the server answers {@code sqlState} (such as 42710, exists). */
  boolean executeUnless(String sql, String sqlState) {
    try (PreparedStatement ps = prepare(sql)) {
      ps.execute();
      return true;
    } catch (SQLException e) {
      if (sqlState.equals(e.getSQLState())) {
        return false;
      }
      throw failure(e);
    }
  }

  <T> List<T> query(String sql, Row<T> row, Object... parameters) {
    try (PreparedStatement ps = prepare(sql, parameters);
        ResultSet rs = ps.executeQuery()) {
      List<T> rows = new ArrayList<>();
      while (rs.next()) {
        rows.add(row.read(rs));
      }
      return rows;
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  <T> Optional<T> queryOne(String sql, Row<T> row, Object... parameters) {
    List<T> rows = query(sql, row, parameters);
    return rows.isEmpty() ? Optional.empty() : Optional.ofNullable(rows.get(0));
  }

  <T> T call(Call<T> call) {
    try {
      return call.apply(connection);
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  /** Runs {@code work} in one transaction. */
  void inTransaction(Runnable work) {
    try {
      connection.setAutoCommit(false);
      try {
        work.run();
        connection.commit();
      } catch (RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw failure(e);
    }
  }

  /** The failure for this side, password masked; the original exception is not kept as cause. */
  RuntimeException failure(SQLException e) {
    return Databases.failure(endpoint, new SQLException(mask(e.getMessage()), e.getSQLState()));
  }

  private PreparedStatement prepare(String sql, Object... parameters) throws SQLException {
    PreparedStatement ps = connection.prepareStatement(sql);
    for (int i = 0; i < parameters.length; i++) {
      if (parameters[i] instanceof String[] texts) {
        ps.setArray(i + 1, connection.createArrayOf("text", texts));
      } else {
        ps.setObject(i + 1, parameters[i]);
      }
    }
    return ps;
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing a broken connection: nothing to tell.
    }
  }
}
