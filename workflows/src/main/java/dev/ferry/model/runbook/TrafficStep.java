package dev.ferry.model.runbook;

import java.time.Duration;

/**
 * One step of the traffic shift.
 *
 * @param awsWeight the share of traffic sent to AWS, 1 to 100 (Heroku gets the rest)
 * @param dwell how long traffic stays at this step while the smoke checks run
 */
public record TrafficStep(int awsWeight, Duration dwell) {}
