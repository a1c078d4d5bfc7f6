package dev.ferry.testing.postgres;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A schema-per-tenant source, as apps that deploy one stack per tenant have: {@code schemas}
 * schemas ({@code tenant_0001}, …) of {@code tablesPerSchema} tables each, every table with a
 * {@code bigserial} key (so a sequence each), every table but the first with a foreign key to
 * another table of its schema (half of them indexed), and {@code rowsPerTable} rows in each.
 * 500 × 20 is issue 15's 10,000 tables; tests use a few hundred.
 *
 * <p>The script is plain SQL for psql: one {@code DO} block per {@link #SCHEMAS_PER_TRANSACTION}
 * schemas, each its own transaction, so that creating it never holds more locks at once than a
 * server's default lock table has room for. {@link #createOn} loads it through a template
 * database, once per cluster and size.
 *
 * <p>For the bench: {@code java -cp … dev.ferry.testing.postgres.TenantSchemas --schemas 500
 * --tables 20 --rows 3 > tenants.sql} prints the script.
 */
public record TenantSchemas(int schemas, int tablesPerSchema, int rowsPerTable) {
  /** Schemas created per transaction (≈ 5 locks per table: table, sequence, index, foreign key). */
  static final int SCHEMAS_PER_TRANSACTION = 5;

  /** A tenant's tables, in order; beyond 20, names repeat with a number. */
  static final List<String> TABLE_NAMES =
      List.of(
          "accounts", "users", "teams", "memberships", "projects", "tasks", "comments", "attachments", "tags",
          "task_tags", "invoices", "invoice_lines", "payments", "events", "notifications", "settings", "api_keys",
          "webhooks", "audit_log", "exports");

  public TenantSchemas {
    if (schemas < 1 || tablesPerSchema < 1 || rowsPerTable < 1) {
      throw new IllegalArgumentException("schemas, tables per schema and rows per table must be at least 1");
    }
  }

  public int tables() {
    return schemas * tablesPerSchema;
  }

  /** {@code tenant_0001}: the schema of tenant {@code s} (from 1). */
  public static String schema(int s) {
    return String.format("tenant_%04d", s);
  }

  /** The name of a tenant's table {@code t} (from 0). */
  public static String table(int t) {
    String base = TABLE_NAMES.get(t % TABLE_NAMES.size());
    return t < TABLE_NAMES.size() ? base : base + "_" + (t / TABLE_NAMES.size());
  }

  /** The table a tenant's table {@code t} refers to by foreign key: a tree over the tenant's tables. */
  static int parent(int t) {
    return (t - 1) / 2;
  }

  /** Creates {@code database} on {@code cluster} holding the tenants (through a template: fast after the first time). */
  public void createOn(TestCluster cluster, String database) throws Exception {
    cluster.createFromScript(database, script().getBytes(StandardCharsets.UTF_8));
  }

  /** The whole source as a psql script. */
  public String script() {
    StringBuilder sql = new StringBuilder();
    sql.append("-- ").append(this).append(": ").append(tables()).append(" tables\n");
    sql.append("SET client_min_messages = warning;\n");
    for (int first = 1; first <= schemas; first += SCHEMAS_PER_TRANSACTION) {
      int last = Math.min(schemas, first + SCHEMAS_PER_TRANSACTION - 1);
      sql.append("DO $tenants$\nDECLARE\n  s text;\nBEGIN\n");
      sql.append("  FOR i IN ").append(first).append("..").append(last).append(" LOOP\n");
      sql.append("    s := format('tenant_%s', lpad(i::text, 4, '0'));\n");
      sql.append("    EXECUTE format('CREATE SCHEMA %I', s);\n");
      for (int t = 0; t < tablesPerSchema; t++) {
        sql.append("    ").append(createTable(t)).append('\n');
      }
      sql.append("  END LOOP;\nEND\n$tenants$;\n");
    }
    sql.append("ANALYZE;\n");
    return sql.toString();
  }

  /** One table's DDL and rows, as a plpgsql statement with the schema in {@code s}. */
  private String createTable(int t) {
    String name = table(t);
    if (t == 0) {
      return "EXECUTE format('CREATE TABLE %I." + name + " (id bigserial PRIMARY KEY, name text NOT NULL,"
          + " created_at timestamptz NOT NULL DEFAULT ''2024-01-01 00:00:00+00'');"
          + " INSERT INTO %I." + name + " (name) SELECT ''tenant '' || %L || '' account '' || g FROM generate_series(1, "
          + rowsPerTable + ") g', s, s, s);";
    }
    String parent = table(parent(t));
    String index =
        t % 2 == 0 ? " CREATE INDEX ON %I." + name + " (parent_id);" : "";
    String indexArg = t % 2 == 0 ? ", s" : "";
    return "EXECUTE format('CREATE TABLE %I." + name + " (id bigserial PRIMARY KEY,"
        + " parent_id bigint NOT NULL REFERENCES %I." + parent + " (id), label text, amount numeric(12,2),"
        + " at timestamptz NOT NULL DEFAULT ''2024-01-01 00:00:00+00'');" + index
        + " INSERT INTO %I." + name + " (parent_id, label, amount) SELECT 1 + mod(g - 1, " + rowsPerTable + ")"
        + ", ''" + name + " '' || g, g * 1.25 FROM generate_series(1, " + rowsPerTable + ") g', s, s" + indexArg + ", s);";
  }

  public static void main(String[] args) {
    int schemas = 500;
    int tables = 20;
    int rows = 3;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--schemas" -> schemas = Integer.parseInt(args[i + 1]);
        case "--tables" -> tables = Integer.parseInt(args[i + 1]);
        case "--rows" -> rows = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--schemas N --tables N --rows N)");
      }
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.print(new TenantSchemas(schemas, tables, rows).script());
  }
}
