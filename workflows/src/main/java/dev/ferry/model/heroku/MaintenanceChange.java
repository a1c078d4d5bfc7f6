package dev.ferry.model.heroku;

/**
 * @param before whether the app was in maintenance mode before the call (put that back to undo)
 * @param after whether it is now
 */
public record MaintenanceChange(String app, boolean before, boolean after) {}
