package dev.ferry.model.schedule;

/**
 * The payload of a schedule's updates ({@code pause}, {@code resume}, {@code trigger}, {@code
 * delete}), e.g. {@code {"by":"olivia","note":"freeze week"}}.
 *
 * @param by who asked: the authenticated API user
 * @param note why, shown with the schedule; may be {@code null}
 */
public record ScheduleCommand(String by, String note) {}
