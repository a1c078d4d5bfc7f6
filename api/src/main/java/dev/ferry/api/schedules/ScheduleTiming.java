package dev.ferry.api.schedules;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.ferry.model.runbook.FieldError;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * When a rehearsal schedule fires: a five-field cron expression ({@code minute hour day-of-month
 * month day-of-week}, as crontab and Temporal read it) in a time zone, or a fixed interval.
 * Temporal computes the fire times ({@link TemporalSchedules#specOf}): cron times are wall-clock
 * times in {@code timezone}, daylight saving included; intervals are counted from the Unix epoch
 * ({@code 6h} fires at 00:00, 06:00, 12:00 and 18:00 UTC). This class only checks a timing before
 * Temporal is asked, so that every bad field is named at once.
 *
 * @param cron the cron expression, or {@code null} for an interval schedule
 * @param interval the interval, or {@code null} for a cron schedule
 * @param timezone an IANA zone id such as {@code Europe/Berlin}; {@code UTC} when absent
 */
public record ScheduleTiming(String cron, Duration interval, String timezone) {
  /** Rehearsals restore a whole database: more often than this is a mistake. */
  public static final Duration MIN_INTERVAL = Duration.ofMinutes(5);

  public static final Duration MAX_INTERVAL = Duration.ofDays(366);
  public static final String UTC = "UTC";

  public ScheduleTiming {
    if (timezone == null || timezone.isBlank()) {
      timezone = UTC;
    }
  }

  public static ScheduleTiming cron(String cron, String timezone) {
    return new ScheduleTiming(cron, null, timezone);
  }

  public static ScheduleTiming every(Duration interval) {
    return new ScheduleTiming(null, interval, UTC);
  }

  /** Every problem with this timing, named by field ({@code cron}, {@code interval}, {@code timezone}). */
  public List<FieldError> problems() {
    return problems(MIN_INTERVAL);
  }

  /** As {@link #problems()}, with another shortest interval (tests fire every second). */
  public List<FieldError> problems(Duration minInterval) {
    List<FieldError> problems = new ArrayList<>();
    boolean hasCron = cron != null && !cron.isBlank();
    if (hasCron == (interval != null)) {
      problems.add(new FieldError(hasCron ? "interval" : "cron", "give exactly one of cron and interval"));
    }
    if (hasCron) {
      cronProblem().ifPresent(m -> problems.add(new FieldError("cron", m)));
    }
    if (interval != null && (interval.compareTo(minInterval) < 0 || interval.compareTo(MAX_INTERVAL) > 0)) {
      problems.add(new FieldError("interval", "must be between " + show(minInterval) + " and 366d"));
    }
    try {
      ZoneId.of(timezone);
    } catch (DateTimeException e) {
      problems.add(new FieldError("timezone", "must be an IANA time zone such as UTC or Europe/Berlin"));
    }
    return problems;
  }

  private Optional<String> cronProblem() {
    String[] fields = cron.trim().split("\\s+");
    if (fields.length != 5) {
      return Optional.of("must have five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"");
    }
    try {
      parse();
      return Optional.empty();
    } catch (IllegalArgumentException e) {
      // The parser's own message quotes the expression back; say what is wrong without it.
      return Optional.of("is not a cron expression (minute hour day-of-month month day-of-week): " + brief(e.getMessage()));
    }
  }

  private static String brief(String message) {
    if (message == null) {
      return "unreadable";
    }
    String oneLine = message.replaceAll("\\s+", " ").trim();
    return oneLine.length() > 160 ? oneLine.substring(0, 160) + "…" : oneLine;
  }

  /** How people read it: {@code cron "0 2 * * *" Europe/Berlin} or {@code every 6h}. */
  @JsonIgnore
  public String describe() {
    if (interval != null) {
      return "every " + show(interval);
    }
    return "cron \"" + cron + "\" " + timezone;
  }

  /** {@code 6h}, {@code 90m}, {@code 1d}: the way the API takes it. */
  public static String show(Duration d) {
    if (d.toSeconds() % 86_400 == 0) {
      return d.toDays() + "d";
    }
    if (d.toSeconds() % 3_600 == 0) {
      return d.toHours() + "h";
    }
    if (d.toSeconds() % 60 == 0) {
      return d.toMinutes() + "m";
    }
    return d.toSeconds() + "s";
  }

  private Cron parse() {
    CronParser parser = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(com.cronutils.model.CronType.UNIX));
    return parser.parse(cron.trim()).validate();
  }
}
