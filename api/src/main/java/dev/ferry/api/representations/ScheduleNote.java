package dev.ferry.api.representations;

import jakarta.validation.constraints.Size;

/** The optional body of pause, resume, trigger and delete: why, shown with the schedule. */
public record ScheduleNote(@Size(max = 500) String note) {}
