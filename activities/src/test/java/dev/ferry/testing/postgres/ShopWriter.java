package dev.ferry.testing.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An app writing to the sample shop while the sync copies and applies: inserts (new customers,
 * orders with items), updates (order status, product stock, a primary key changed in {@code
 * notes}), deletes (an order and, by cascade, its items), one statement per transaction or
 * several. Deterministic in what it writes; how many transactions it gets through depends on
 * the machine, and the tests only count them.
 */
public final class ShopWriter implements AutoCloseable {
  /**
   * A table the writer owns with a text primary key it changes, and truncates on demand, and a
   * {@code GENERATED ALWAYS} identity column.
   */
  public static final String NOTES_DDL =
      "CREATE TABLE public.notes (k text PRIMARY KEY, v integer NOT NULL, body text,"
          // An identity column the app may not write: the sync must still copy its values.
          + " seq bigint GENERATED ALWAYS AS IDENTITY)";

  private final String database;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong committed = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicBoolean truncateNext = new AtomicBoolean();
  private final Thread thread;

  public ShopWriter(String database) {
    this.database = database;
    this.thread = new Thread(this::run, "concurrent-writer");
  }

  public ShopWriter start() {
    thread.start();
    return this;
  }

  public long committed() {
    return committed.get();
  }

  /** Asks for a TRUNCATE of notes as the next transaction. */
  public void truncateNotes() {
    truncateNext.set(true);
  }

  /** Waits until at least {@code more} further transactions committed. */
  public void awaitMore(long more) throws InterruptedException {
    long goal = committed.get() + more;
    while (committed.get() < goal) {
      if (failure.get() != null) {
        throw new AssertionError("the writer failed", failure.get());
      }
      if (!thread.isAlive()) {
        throw new AssertionError("the writer stopped");
      }
      Thread.sleep(5);
    }
  }

  private void run() {
    try (Connection c = TestCluster.SOURCE.connect(database)) {
      c.setAutoCommit(false);
      long i = 0;
      while (running.get()) {
        i++;
        try (Statement s = c.createStatement()) {
          if (truncateNext.getAndSet(false)) {
            s.execute("TRUNCATE public.notes");
          }
          s.execute("INSERT INTO customers (email, full_name, country, created_at) VALUES ('w" + i
              + "@example.com', 'Writer " + i + "', 'NZ', now())");
          s.execute("INSERT INTO orders (customer_id, status, placed_at, note) VALUES (" + (1 + i % 5000)
              + ", 'placed', now(), 'writer " + i + "') ");
          s.execute("INSERT INTO order_items SELECT currval('orders_id_seq'), n, " + (1 + i % 500) + ", n, 100 FROM generate_series(1, 3) n");
          s.execute("UPDATE orders SET status = 'paid', note = NULL WHERE id = " + (1 + (i * 37) % 20000));
          s.execute("UPDATE products SET stock = stock + 1, attributes = '{\"touched\": " + i + "}' WHERE id = " + (1 + i % 500));
          s.execute("DELETE FROM orders WHERE id = (SELECT max(id) FROM orders WHERE note = 'writer " + (i - 5) + "')");
          s.execute("INSERT INTO notes VALUES ('n" + i + "', " + i + ", repeat('x', " + (i % 50) + ")) ON CONFLICT DO NOTHING");
          s.execute("UPDATE notes SET k = 'm' || k, v = v + 1 WHERE k = 'n" + (i - 3) + "'");
          s.execute("DELETE FROM notes WHERE k = 'mn" + (i - 9) + "'");
        }
        c.commit();
        committed.incrementAndGet();
      }
    } catch (SQLException e) {
      // The freeze ends this session, or makes its writes fail: the app stops writing.
      if (running.get() && !"25006".equals(e.getSQLState()) && !"57P01".equals(e.getSQLState())) {
        failure.set(e);
      }
    } catch (Throwable t) {
      failure.set(t);
    }
  }

  /** Stops writing; returns once the last transaction committed or rolled back. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join();
    if (failure.get() != null) {
      throw new AssertionError("the writer failed", failure.get());
    }
  }
}
