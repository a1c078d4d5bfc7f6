package dev.ferry.model;

/**
 * A decision on a gate, as sent to the {@code decide} update (the API) or the {@code decision}
 * signal (Temporal UI and CLI). For example:
 *
 * <pre>{"gate":"start","verdict":"APPROVE","approver":"arjun","comment":"preflight looks clean"}</pre>
 *
 * @param approver who decides; the API sets it to the authenticated user, never to a field of
 *     the request body
 * @param comment why; required to reject
 */
public record GateDecision(String gate, Verdict verdict, String approver, String comment) {}
