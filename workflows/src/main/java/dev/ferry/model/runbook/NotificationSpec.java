package dev.ferry.model.runbook;

/**
 * Where Ferry tells people what needs them (a gate opened, a reminder, the run ended).
 *
 * @param webhook an {@code https} URL that takes a JSON POST (Slack-compatible: {@code text}),
 *     or a secret reference ({@code env:}, {@code ssm:}) to one when the URL holds a token
 */
public record NotificationSpec(String webhook) {}
