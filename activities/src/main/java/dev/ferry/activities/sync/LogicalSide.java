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
  private final LogicalConnInfo secret;

  private LogicalSide(Endpoint endpoint, Connection connection, LogicalConnInfo secret) {
    this.endpoint = endpoint;
    this.connection = connection;
    this.secret = secret;
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
   * {@link #execute}, except that the server error {@code sqlState} (such as 42501, not
   * allowed) becomes what {@code refusal} makes of its message, password masked: for errors
   * that a retry cannot fix and that deserve their own words.
   */
  void executeOrRefuse(String sql, String sqlState, java.util.function.Function<String, RuntimeException> refusal) {
    try (PreparedStatement ps = prepare(sql)) {
      ps.execute();
    } catch (SQLException e) {
      if (sqlState.equals(e.getSQLState())) {
        throw refusal.apply(secret.mask(e.getMessage()));
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
    return Databases.failure(endpoint, new SQLException(secret.mask(e.getMessage()), e.getSQLState()));
  }

  private PreparedStatement prepare(String sql, Object... parameters) throws SQLException {
    PreparedStatement ps = connection.prepareStatement(sql);
    for (int i = 0; i < parameters.length; i++) {
      ps.setObject(i + 1, parameters[i]);
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
