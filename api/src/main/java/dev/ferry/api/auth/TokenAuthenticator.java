package dev.ferry.api.auth;

import io.dropwizard.auth.Authenticator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * Finds the user a bearer token belongs to by comparing its SHA-256 with each configured hash,
 * in constant time, so the configuration never holds a usable token.
 */
public class TokenAuthenticator implements Authenticator<String, FerryUser> {
  private final List<ApiUser> users;

  public TokenAuthenticator(List<ApiUser> users) {
    this.users = List.copyOf(users);
  }

  @Override
  public Optional<FerryUser> authenticate(String token) {
    if (token == null || token.isBlank()) {
      return Optional.empty();
    }
    byte[] presented = TokenHash.sha256Hex(token.trim()).getBytes(StandardCharsets.US_ASCII);
    FerryUser found = null;
    for (ApiUser user : users) {
      // Check every user, match or not, so timing does not tell which hash came close.
      if (MessageDigest.isEqual(presented, user.tokenSha256().getBytes(StandardCharsets.US_ASCII))) {
        found = new FerryUser(user.name(), user.roles());
      }
    }
    return Optional.ofNullable(found);
  }
}
