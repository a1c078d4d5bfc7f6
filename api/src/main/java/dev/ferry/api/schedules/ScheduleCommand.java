package dev.ferry.api.schedules;

/**
 * Who asks for a pause, resume, trigger or delete of a schedule, and why.
 *
 * @param by who asked: the authenticated API user
 * @param note why, shown with the schedule; may be {@code null}
 */
public record ScheduleCommand(String by, String note) {}
