package dev.ferry.api.representations;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The body of {@code POST /api/schedules}: which runbook to rehearse and when.
 *
 * @param runbook the runbook, as an object or as YAML/JSON text (secret references only)
 * @param cron five fields, {@code minute hour day-of-month month day-of-week}, e.g. {@code "0 2 * * *"}
 * @param interval instead of cron: {@code 6h}, {@code 90m}, {@code 1d} (at least 5m), counted from
 *     the Unix epoch
 * @param timezone an IANA zone for the cron expression; {@code UTC} when absent
 * @param freshSnapshot {@code false} to rehearse on the newest snapshot a worker still holds;
 *     default {@code true}
 */
public record ScheduleRequest(JsonNode runbook, String cron, String interval, String timezone, Boolean freshSnapshot) {}
