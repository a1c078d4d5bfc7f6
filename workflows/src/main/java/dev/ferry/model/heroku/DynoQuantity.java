package dev.ferry.model.heroku;

/**
 * One process type of a Heroku formation.
 *
 * @param type {@code web}, {@code worker}, …
 * @param quantity how many dynos
 * @param size the dyno size ({@code standard-1X}); informational, never changed by Ferry
 */
public record DynoQuantity(String type, int quantity, String size) {}
