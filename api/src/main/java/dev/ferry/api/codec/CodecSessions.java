package dev.ferry.api.codec;

import dev.ferry.api.auth.ApiUser;
import dev.ferry.api.auth.FerryUser;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sign-ins of the Temporal UI to the codec: a cookie that names a configured user and when it
 * expires, signed (HMAC-SHA256) with a key this process made at start. The Temporal UI cannot
 * send a bearer token of its own (it has none without single sign-on), but with "include
 * cross-origin credentials" it sends this cookie, which only the codec's endpoints accept.
 *
 * <p>The signature also covers the user's token hash, so a user whose token is changed in the
 * configuration is signed out; an API restart signs everyone out. Nothing is kept per session:
 * the cookie is the session.
 */
public final class CodecSessions {
  /** The cookie's name; its path is {@code /codec}. */
  public static final String COOKIE = "ferry_codec";
  private static final String VERSION = "v1";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] key;
  private final Duration ttl;
  private final Clock clock;
  private final Map<String, ApiUser> users;

  public CodecSessions(List<ApiUser> users, Duration ttl, Clock clock) {
    this(users, ttl, clock, randomKey());
  }

  CodecSessions(List<ApiUser> users, Duration ttl, Clock clock, byte[] key) {
    this.users = users.stream().collect(Collectors.toMap(ApiUser::name, Function.identity(), (a, b) -> a));
    this.ttl = ttl;
    this.clock = clock;
    this.key = key.clone();
  }

  public Duration ttl() {
    return ttl;
  }

  /** A signed sign-in of {@code user}, valid for the configured time from now. */
  public Session issue(FerryUser user) {
    Instant expires = clock.instant().plus(ttl);
    String body = VERSION + "." + encode(user.name()) + "." + expires.getEpochSecond();
    ApiUser configured = users.get(user.name());
    if (configured == null) {
      throw new IllegalArgumentException("no configured user " + user.name());
    }
    return new Session(body + "." + sign(body, configured), user.name(), expires);
  }

  /** The user a cookie signs in, while it has not expired and its user is still configured as it was. */
  public Optional<FerryUser> verify(String cookie) {
    if (cookie == null || cookie.length() > 512) {
      return Optional.empty();
    }
    String[] parts = cookie.split("\\.", -1);
    if (parts.length != 4 || !VERSION.equals(parts[0])) {
      return Optional.empty();
    }
    String name;
    long expires;
    try {
      name = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
      expires = Long.parseLong(parts[2]);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    ApiUser user = users.get(name);
    if (user == null) {
      return Optional.empty();
    }
    String body = parts[0] + "." + parts[1] + "." + parts[2];
    byte[] expected = sign(body, user).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, parts[3].getBytes(StandardCharsets.US_ASCII))) {
      return Optional.empty();
    }
    if (!clock.instant().isBefore(Instant.ofEpochSecond(expires))) {
      return Optional.empty();
    }
    return Optional.of(new FerryUser(user.name(), user.roles()));
  }

  /** A sign-in: the cookie's value, whom it names, until when. */
  public record Session(String cookie, String user, Instant expiresAt) {
    @Override
    public String toString() {
      return "Session[user=" + user + ", expiresAt=" + expiresAt + "]"; // never the cookie
    }
  }

  private String sign(String body, ApiUser user) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(body.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update(user.tokenSha256().getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has HmacSHA256", e);
    }
  }

  private static String encode(String name) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(name.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] randomKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }
}
