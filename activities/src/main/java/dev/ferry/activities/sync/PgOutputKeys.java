package dev.ferry.activities.sync;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads changed keys out of logical decoding's {@code pgoutput} messages (protocol version 1), as
 * {@code pg_logical_slot_peek_binary_changes} returns them one per row: whole committed
 * transactions, each with its transaction id and the end of its commit record.
 *
 * <p>A key is the table's primary key, in the key's order, as text. When a change's key cannot be
 * known exactly, the change is every row of its table ({@code []}), as a truncate is: a table
 * without a primary key; a key value PostgreSQL left out (an unchanged TOASTed value); an update
 * of a table whose replica identity is an index other than its primary key (the old primary key
 * is not logged, so a key that changed would go unseen); and more than {@link #KEYS_PER_TABLE}
 * keys of one table in one transaction, which would otherwise all be held at once.
 */
final class PgOutputKeys {
  /** A changed key without its transaction: schema, table, key values ({@code []}: every row). */
  record Touched(String schema, String table, List<String> key) {}

  /** A committed transaction: its (32-bit) id, where its commit record ends, what it changed. */
  record Transaction(long xid, long endLsn, List<Touched> touched) {}

  private record Relation(int oid, String schema, String table, char identity, List<String> columns, Set<String> identityColumns) {}

  /** Keys of one table in one transaction past which the table counts as changed whole. */
  static final int KEYS_PER_TABLE = 100_000;

  private final Map<Integer, List<String>> primaryKeys;
  private final Map<Integer, Relation> relations = new HashMap<>();
  private final List<Transaction> transactions = new ArrayList<>();
  private long xid = -1;
  private Set<Touched> open;
  private Map<Integer, Integer> openCounts;

  /**
   * @param primaryKeys each table's primary key columns in the key's order, by the table's oid;
   *     a table absent has none
   */
  PgOutputKeys(Map<Integer, List<String>> primaryKeys) {
    this.primaryKeys = primaryKeys;
  }

  /** The transactions read to their commit so far. */
  List<Transaction> transactions() {
    return transactions;
  }

  /** Reads one message. */
  void accept(byte[] message) {
    ByteBuffer b = ByteBuffer.wrap(message);
    char type = (char) b.get();
    switch (type) {
      case 'B' -> {
        b.getLong(); // the commit's position
        b.getLong(); // its time
        xid = Integer.toUnsignedLong(b.getInt());
        open = new LinkedHashSet<>();
        openCounts = new HashMap<>();
      }
      case 'C' -> {
        b.get(); // flags
        b.getLong(); // the commit record's start
        long end = b.getLong();
        transactions.add(new Transaction(xid, end, List.copyOf(openTransaction())));
        open = null;
        xid = -1;
      }
      case 'R' -> {
        int oid = b.getInt();
        String schema = string(b);
        String table = string(b);
        char identity = (char) b.get();
        int n = b.getShort();
        List<String> columns = new ArrayList<>(n);
        Set<String> identityColumns = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
          boolean key = (b.get() & 1) != 0;
          String name = string(b);
          b.getInt(); // type
          b.getInt(); // typmod
          columns.add(name);
          if (key) {
            identityColumns.add(name);
          }
        }
        relations.put(oid, new Relation(oid, schema, table, identity, columns, identityColumns));
      }
      case 'I' -> {
        Relation r = relation(b.getInt());
        expect(b, 'N');
        touch(r, key(r, tuple(b)));
      }
      case 'U' -> {
        Relation r = relation(b.getInt());
        char kind = (char) b.get();
        List<String> old = null;
        if (kind == 'K' || kind == 'O') {
          old = key(r, tuple(b));
          kind = (char) b.get();
        }
        if (kind != 'N') {
          throw unexpected("an update's new row", kind);
        }
        List<String> now = key(r, tuple(b));
        if (r.identity == 'i' && !r.identityColumns.containsAll(primaryKey(r))) {
          // The old primary key is logged only with the identity's columns: not when it alone changed.
          touch(r, List.of());
        } else {
          touch(r, now);
          if (old != null) {
            touch(r, old);
          }
        }
      }
      case 'D' -> {
        Relation r = relation(b.getInt());
        char kind = (char) b.get();
        if (kind != 'K' && kind != 'O') {
          throw unexpected("a delete's old row", kind);
        }
        touch(r, key(r, tuple(b)));
      }
      case 'T' -> {
        int n = b.getInt();
        b.get(); // options (CASCADE, RESTART IDENTITY)
        for (int i = 0; i < n; i++) {
          touch(relation(b.getInt()), List.of());
        }
      }
      case 'O', 'Y', 'M' -> {} // origin, type, logical message: no row changed
      default -> throw unexpected("a pgoutput message", type);
    }
  }

  private void touch(Relation r, List<String> key) {
    Set<Touched> touched = openTransaction();
    Touched whole = new Touched(r.schema, r.table, List.of());
    if (touched.contains(whole)) {
      return;
    }
    int n = openCounts.merge(r.oid, 1, Integer::sum);
    if (key.isEmpty() || n > KEYS_PER_TABLE) {
      touched.removeIf(t -> t.schema().equals(r.schema) && t.table().equals(r.table));
      touched.add(whole);
    } else {
      touched.add(new Touched(r.schema, r.table, key));
    }
  }

  private Set<Touched> openTransaction() {
    if (open == null) {
      throw new IllegalStateException("pgoutput: a change outside a transaction");
    }
    return open;
  }

  private Relation relation(int oid) {
    Relation r = relations.get(oid);
    if (r == null) {
      throw new IllegalStateException("pgoutput: a change of relation " + Integer.toUnsignedLong(oid) + " before its description");
    }
    return r;
  }

  private List<String> primaryKey(Relation r) {
    return primaryKeys.getOrDefault(r.oid, List.of());
  }

  /** The row's primary key, or {@code []} when it cannot be known from the row. */
  private List<String> key(Relation r, List<String> values) {
    List<String> pk = primaryKey(r);
    if (pk.isEmpty()) {
      return List.of();
    }
    List<String> key = new ArrayList<>(pk.size());
    for (String column : pk) {
      int i = r.columns.indexOf(column);
      String value = i < 0 || i >= values.size() ? null : values.get(i);
      if (value == null) {
        return List.of();
      }
      key.add(value);
    }
    return List.copyOf(key);
  }

  /** A tuple's values as text; null for a null, or a value left out (unchanged TOAST). */
  private static List<String> tuple(ByteBuffer b) {
    int n = b.getShort();
    List<String> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      char kind = (char) b.get();
      switch (kind) {
        case 'n', 'u' -> values.add(null);
        case 't' -> {
          byte[] text = new byte[b.getInt()];
          b.get(text);
          values.add(new String(text, StandardCharsets.UTF_8));
        }
        default -> throw unexpected("a column's value", kind);
      }
    }
    return values;
  }

  private static void expect(ByteBuffer b, char kind) {
    char got = (char) b.get();
    if (got != kind) {
      throw unexpected("'" + kind + "'", got);
    }
  }

  private static String string(ByteBuffer b) {
    int start = b.position();
    while (b.get() != 0) {
      // to the terminator
    }
    return new String(b.array(), start, b.position() - start - 1, StandardCharsets.UTF_8);
  }

  private static IllegalStateException unexpected(String what, char got) {
    return new IllegalStateException("pgoutput: expected " + what + ", got '" + got + "'");
  }
}
