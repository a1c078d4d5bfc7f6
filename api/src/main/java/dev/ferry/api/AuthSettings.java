package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.ferry.api.auth.ApiUser;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotEmpty;
import java.util.List;

/** The API's users: each a name, roles and the SHA-256 of its bearer token (never the token). */
public class AuthSettings {
  @NotEmpty @Valid @JsonProperty private List<ApiUser> users = List.of();

  public List<ApiUser> getUsers() {
    return users;
  }
}
