package dev.ferry.model.smoke;

import dev.ferry.model.runbook.SmokeCheckSpec;
import java.time.Duration;
import java.util.List;

/**
 * Smoke checks to run for one step of a traffic shift.
 *
 * @param checks the URLs, each with its expected status and latency ceiling
 * @param dwell how long to keep checking; the checks run in rounds (every URL once per round)
 *     spread evenly over it
 * @param maxErrorRate the share of failed requests over the dwell above which the verdict fails
 */
public record SmokeCheckRequest(List<SmokeCheckSpec> checks, Duration dwell, double maxErrorRate) {}
