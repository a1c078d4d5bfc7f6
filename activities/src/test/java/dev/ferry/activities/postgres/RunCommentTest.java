package dev.ferry.activities.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RunCommentTest {

  @Test
  void namesTheRun_andReadsItBack() {
    String literal = RunComment.literal("migration-shop-1a2b3c4d", "change capture; dropped when it ends");

    assertThat(literal).isEqualTo("'Ferry run migration-shop-1a2b3c4d: change capture; dropped when it ends'");
    assertThat(RunComment.runOf(literal.substring(1, literal.length() - 1))).contains("migration-shop-1a2b3c4d");
  }

  @Test
  void anIdThatCouldBreakOutOfTheLiteral_isNotWritten_andTheObjectStaysUnattributed() {
    String literal = RunComment.literal("x'; DROP TABLE runs; --", "a rehearsal's scratch database");

    assertThat(literal).isEqualTo("'Ferry: a rehearsal''s scratch database'");
    assertThat(RunComment.runOf("Ferry: a rehearsal's scratch database")).isEmpty();
  }

  @Test
  void commentsOfOthers_nameNoRun() {
    assertThat(RunComment.runOf(null)).isEmpty();
    assertThat(RunComment.runOf("Ferry: change capture of a migration under way; dropped when it ends")).isEmpty();
    assertThat(RunComment.runOf("the app's own schema")).isEmpty();
  }
}
