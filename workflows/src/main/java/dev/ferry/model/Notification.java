package dev.ferry.model;

/**
 * A message for people: a gate opened, a reminder, the run ended.
 *
 * @param webhook the runbook's webhook: an https URL or a secret reference to one
 * @param event {@code gate-opened}, {@code gate-reminder}, {@code run-ended}
 * @param text what to tell them, in a sentence, with the run id
 */
public record Notification(String webhook, String runId, String app, String event, String text) {}
