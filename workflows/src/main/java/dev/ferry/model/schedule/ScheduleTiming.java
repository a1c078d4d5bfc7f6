package dev.ferry.model.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.ferry.model.runbook.FieldError;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * When a rehearsal schedule fires: a five-field cron expression ({@code minute hour day-of-month
 * month day-of-week}, as crontab and Temporal read it) in a time zone, or a fixed interval.
 *
 * <p>Cron times are wall-clock times in {@code timezone}: {@code 0 2 * * *} in {@code
 * Europe/Berlin} fires at 02:00 Berlin time in winter and summer alike; on the night a
 * wall-clock time does not exist (the spring change) it fires that much later (02:30 becomes
 * 03:30 summer time), and on the night it exists twice (autumn) it fires once, the first time. Intervals are counted from the
 * Unix epoch, as Temporal's interval schedules are ({@code 6h} fires at 00:00, 06:00, 12:00 and
 * 18:00 UTC), so both implementations fire at the same instants; the time zone does not move them.
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
    List<FieldError> problems = new ArrayList<>();
    boolean hasCron = cron != null && !cron.isBlank();
    if (hasCron == (interval != null)) {
      problems.add(new FieldError(hasCron ? "interval" : "cron", "give exactly one of cron and interval"));
    }
    if (hasCron) {
      cronProblem().ifPresent(m -> problems.add(new FieldError("cron", m)));
    }
    if (interval != null && (interval.compareTo(MIN_INTERVAL) < 0 || interval.compareTo(MAX_INTERVAL) > 0)) {
      problems.add(new FieldError("interval", "must be between 5m and 366d"));
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

  /**
   * The first fire time strictly after {@code after}.
   *
   * @throws IllegalStateException when the timing is not valid (check {@link #problems()} first)
   *     or a cron expression never fires again (February 30th)
   */
  public Instant nextFireAfter(Instant after) {
    if (interval != null) {
      long step = interval.toMillis();
      long at = after.toEpochMilli();
      return Instant.ofEpochMilli(Math.floorDiv(at, step) * step + step);
    }
    // The cron is matched against wall-clock times (the parser's own zone handling skips a
    // fire whose time falls in the spring gap); each match is then placed in the zone.
    ZoneId zone = ZoneId.of(timezone);
    ExecutionTime times = ExecutionTime.forCron(parse());
    LocalDateTime cursor = LocalDateTime.ofInstant(after, zone);
    for (int i = 0; i < 4; i++) {
      LocalDateTime match =
          times
              .nextExecution(cursor.atZone(ZoneOffset.UTC))
              .orElseThrow(() -> new IllegalStateException("cron " + cron + " never fires after " + after))
              .toLocalDateTime();
      // In a gap the time moves forward by the gap's length; in an overlap the earlier one counts.
      Instant at = ZonedDateTime.ofLocal(match, zone, null).toInstant();
      if (at.isAfter(after)) {
        return at;
      }
      cursor = match; // the second pass through an autumn hour: that time has fired already
    }
    throw new IllegalStateException("cron " + cron + " found no fire time after " + after);
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
