package dev.ferry.model.runbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.testing.Runbooks;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The runbook's {@code rehearsals} section: the cutover budget. */
class RehearsalRunbookSectionTest {
  @Test
  void aBudget_isParsed_andMaxAgeDefaultsToSevenDays() {
    Runbook both = RunbookParser.parse(Runbooks.SHOP_YAML + "rehearsals:\n  maxDowntime: 5m\n  maxAge: 2d\n");
    assertThat(both.rehearsals()).isEqualTo(new RehearsalsSpec(Duration.ofMinutes(5), Duration.ofDays(2)));

    Runbook downtimeOnly = RunbookParser.parse(Runbooks.SHOP_YAML + "rehearsals:\n  maxDowntime: 90s\n");
    assertThat(downtimeOnly.rehearsals()).isEqualTo(new RehearsalsSpec(Duration.ofSeconds(90), RehearsalsSpec.DEFAULT_MAX_AGE));

    assertThat(RunbookParser.parse(Runbooks.SHOP_YAML).rehearsals()).isNull();
  }

  @Test
  void everyProblem_isNamedByField() {
    RunbookInvalidException e =
        catchThrowableOfType(
            () -> RunbookParser.parse(Runbooks.SHOP_YAML + "rehearsals:\n  maxDowntime: soon\n  maxAge: 10m\n  budget: 5m\n"),
            RunbookInvalidException.class);

    assertThat(e.errors())
        .extracting(FieldError::field)
        .containsExactlyInAnyOrder("rehearsals.maxDowntime", "rehearsals.maxAge", "rehearsals.budget");
    assertThat(e.errors()).filteredOn(f -> f.field().equals("rehearsals.maxAge"))
        .singleElement().satisfies(f -> assertThat(f.message()).startsWith("must be between 1h and "));
  }

  @Test
  void aSectionThatIsNotAMapping_isRefused() {
    RunbookInvalidException e =
        catchThrowableOfType(() -> RunbookParser.parse(Runbooks.SHOP_YAML + "rehearsals: 5m\n"), RunbookInvalidException.class);

    assertThat(e.errors()).extracting(FieldError::field).containsExactly("rehearsals");
  }
}
