package dev.ferry.activities.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.activities.postgres.VerifyActivitiesImpl;
import dev.ferry.activity.CopyActivities;
import dev.ferry.activity.VerifyActivities;
import dev.ferry.model.copy.CopyRequest;
import dev.ferry.model.copy.CopyResult;
import dev.ferry.model.database.VerificationReport;
import dev.ferry.model.database.VerifyRequest;
import dev.ferry.testing.postgres.MigrationDatabases;
import dev.ferry.testing.postgres.TestCluster;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tricky fixture (partitioned tables, generated columns, enums, domains, a keyless table with
 * duplicate rows, text and composite keys, quoted names, a large object, a million-row table)
 * through the streaming copy between the real clusters, big tables split into key ranges: the
 * copy's own report and the independent chunked verification both find it exact.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamCopyTest {
  @TempDir static Path workDir;
  static MigrationDatabases tricky;
  static CopyHarness copy;
  static CopyResult result;

  /**
   * Traps the fixture lacks, added to this test's copy of it: a domain, a GENERATED ALWAYS
   * identity, a generated column after other columns, values whose COPY text needs escaping,
   * a table without columns (but rows), a deferrable and a NULLS NOT DISTINCT unique constraint,
   * an exclusion constraint, partial, expression, INCLUDE and clustered indexes, and two
   * materialized views, one reading the other.
   */
  static final String[] EXTRAS = {
    "CREATE DOMAIN public.positive_amount AS numeric(12, 2) CHECK (VALUE > 0)",
    "CREATE TABLE public.refunds (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount public.positive_amount NOT NULL,"
        + " reason text, words tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(reason, ''))) STORED,"
        + " during tstzrange, note text, EXCLUDE USING gist (during WITH &&))",
    "INSERT INTO public.refunds (amount, reason, during, note) SELECT g * 1.5, CASE WHEN g % 3 = 0 THEN NULL ELSE 'reason ' || g END,"
        + " tstzrange('2024-01-01'::timestamptz + g * interval '1 day', '2024-01-01'::timestamptz + (g + 1) * interval '1 day'),"
        + " E'tab\there, newline\nthere, backslash \\\\ and \u00e9' FROM generate_series(1, 300) g",
    "CREATE TABLE public.\"Odd \"\"Name\"\"\" (k text PRIMARY KEY, v bytea, n numeric, f float8, i interval, t timetz, m money)",
    "INSERT INTO public.\"Odd \"\"Name\"\"\" VALUES (E'a\tb', '\\x00ff', 'NaN', '-0', '1 year 2 mons -3 days 04:05:06.789',"
        + " '12:34:56+05:30', 12.34), ('\\N', NULL, 1e-30, 'Infinity', '-1 microsecond', '00:00:00-12', -0.01),"
        + " (E'\\\\.', '\\x', 123456789012345678901234567890.123456789, 1.7976931348623157e308, '0', '23:59:59.999999+00', 0)",
    "CREATE TABLE public.no_columns ()",
    "INSERT INTO public.no_columns DEFAULT VALUES",
    "INSERT INTO public.no_columns DEFAULT VALUES",
    "CREATE TABLE public.tags (id bigint PRIMARY KEY, name text, slug text, parent bigint,"
        + " CONSTRAINT tags_name_key UNIQUE (name) DEFERRABLE INITIALLY DEFERRED,"
        + " CONSTRAINT tags_slug_key UNIQUE NULLS NOT DISTINCT (slug))",
    "INSERT INTO public.tags SELECT g, 'tag ' || g, CASE WHEN g = 1 THEN NULL ELSE 'slug-' || g END, nullif(g / 10, 0) FROM generate_series(1, 400) g",
    "CREATE INDEX tags_lower_name ON public.tags (lower(name)) WHERE parent IS NOT NULL",
    "CREATE INDEX tags_parent ON public.tags (parent) INCLUDE (name)",
    "CLUSTER public.tags USING tags_parent",
    "CREATE MATERIALIZED VIEW public.invoice_totals AS SELECT state, count(*) AS invoices, sum(total) AS total"
        + " FROM \"Billing\".\"Invoices\" GROUP BY state",
    "CREATE UNIQUE INDEX invoice_totals_state ON public.invoice_totals (state)",
    "CREATE MATERIALIZED VIEW public.paid_total AS SELECT total FROM public.invoice_totals WHERE state = 'paid'",
    "ANALYZE",
  };

  @BeforeAll
  static void copyTheFixture() throws Exception {
    tricky = MigrationDatabases.tricky();
    TestCluster.SOURCE.execute(tricky.source, EXTRAS);
    // The target's provider installed an extension the source has too (RDS: pg_stat_statements).
    TestCluster.TARGET.execute(tricky.target, "CREATE EXTENSION pgcrypto");
    copy = new CopyHarness(tricky, workDir, CopyHarness.SMALL_CHUNKS, CopyRequest.FROZEN, Map.of());
    // The holder goes on until the copy's end (order 9): the workflow's cancel can come after it.
    result = copy.copyAllLeavingTheHolder(2);
  }

  @AfterAll
  static void dropDatabases() throws Exception {
    copy.close();
    tricky.close();
  }

  @Test
  @Order(1)
  void trickyFixture_copiesExactly_bothByItsOwnChecksAndByTheVerification_andIsAnalyzed() throws Exception {
    CopyActivities control = copy.worker();
    VerificationReport report = control.verifyCopy(copy.request(1));
    assertThat(report.problems()).isEmpty();
    assertThat(report.mismatches()).isZero();
    // Few tables: each is listed (a database of thousands lists only what differs and counts the rest).
    assertThat(report.tables()).hasSize(result.tables() + 1);
    assertThat(report.totals().tables()).isEqualTo(result.tables() + 1);
    assertThat(report.totals().detail()).contains("the source's taken as its rows streamed");
    // Analyzed once landed, as a restore is: the planner has statistics before any traffic comes.
    assertThat(TestCluster.TARGET.tablesAnalyzed(tricky.target, true)).isGreaterThanOrEqualTo(result.tables());
    assertThat(TestCluster.TARGET.tablesAnalyzed(tricky.target, false)).isZero();

    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(new VerifyActivitiesImpl(copy.databases));
      VerificationReport independent =
          env.newActivityStub(VerifyActivities.class).verifyDatabases(new VerifyRequest(tricky.references(), 2));
      assertThat(independent.problems()).isEmpty();
      assertThat(independent.tables()).hasSize(result.tables() + 1); // and the large objects
    } finally {
      env.close();
    }
  }

  /**
   * A table dropped and created again once the finish had made its report (a stale plan attempt's
   * restore that connected late, anything else): the verify step does not return the stored
   * report but compares again, and names it.
   */
  @Test
  @Order(8)
  void aTableReplacedAfterTheFinishsReport_failsTheVerifyStep_namingIt() throws Exception {
    copy.replaceWithAnEmptyTable("audit_log");

    CopyHarness.assertOnlyReplaced(copy.worker().verifyCopy(copy.request(1)), "audit_log");
  }

  @Test
  @Order(9)
  void materializedViews_areFilled_andTheBookkeepingAndClaimAreGoneAfterTheEnd_theHolderEndingQuietly() throws Exception {
    assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT sum(invoices) FROM public.invoice_totals")).isEqualTo(20000);
    assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT count(*) FROM public.paid_total")).isEqualTo(1);
    assertThat(TestCluster.TARGET.queryLong(tricky.target, "SELECT count(*) FROM public.no_columns")).isEqualTo(2);
    assertThat(TestCluster.TARGET.queryLong(
        tricky.target, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ferry_restore_claim'")).isZero();
    assertThat(copy.bookExists()).isTrue();

    copy.worker().endCopy(copy.request(1));

    assertThat(copy.bookExists()).isFalse();
    // The end step ended the holder's session: with the copy over, that is not a failure.
    assertThat(copy.lastHolder.awaitFailure()).as("the holder, its session ended after the copy").isNull();
    String tag = CopyBook.tagOf(copy.key);
    assertThat(CopyHarness.copySessions(TestCluster.SOURCE, tricky.source, tag)).isZero();
    assertThat(CopyHarness.copySessions(TestCluster.TARGET, tricky.target, tag)).isZero();
  }

  @Test
  @Order(3)
  void bigTables_areSplitIntoKeyRanges_keylessOnesCopiedWhole() throws Exception {
    assertThat(copy.bookLong("SELECT count(*) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'page_views'")).isGreaterThan(1);
    assertThat(copy.bookLong("SELECT count(*) FROM $book.chunks c JOIN $book.tables t ON t.id = c.table_id"
        + " WHERE t.relname = 'audit_log' AND c.lower IS NULL AND c.upper IS NULL")).isEqualTo(1);
    assertThat(copy.bookLong("SELECT rows FROM $book.tables WHERE relname = 'audit_log'")).isEqualTo(3000);
    assertThat(result.chunks()).isGreaterThan(result.tables());
    assertThat(copy.bookLong("SELECT rows FROM $book.tables WHERE relname = 'page_views'")).isEqualTo(1_000_500);
  }
}
