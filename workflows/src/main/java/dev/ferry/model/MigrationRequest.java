package dev.ferry.model;

import dev.ferry.model.runbook.Runbook;

/**
 * The input of {@code MigrationWorkflow}.
 *
 * @param startedBy who started the run (the API sets the authenticated user); the gates refuse
 *     this user's decisions unless the runbook allows self-approval
 */
public record MigrationRequest(Runbook runbook, String startedBy) {}
