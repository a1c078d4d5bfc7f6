package dev.ferry.api.testing;

import dev.ferry.api.auth.ApiUser;
import dev.ferry.api.auth.TokenHash;
import java.util.List;
import java.util.Set;

/** The API users tests authenticate as; each user's token is {@code token-<name>}. */
public final class TestUsers {
  private TestUsers() {}

  public static final List<ApiUser> ALL =
      List.of(
          user("olivia", "operator"),
          user("arjun", "approver"),
          user("beatriz", "approver"),
          user("mallory", "approver"),
          user("val", "viewer"),
          user("sam", "operator", "approver"));

  public static String bearer(String name) {
    return "Bearer token-" + name;
  }

  private static ApiUser user(String name, String... roles) {
    return new ApiUser(name, Set.of(roles), TokenHash.sha256Hex("token-" + name));
  }
}
