package dev.ferry.api.auth;

import java.security.Principal;
import java.util.Set;

/** An authenticated caller of the API. */
public record FerryUser(String name, Set<String> roles) implements Principal {
  @Override
  public String getName() {
    return name;
  }
}
