package dev.ferry.api.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.auth.ApiUser;
import dev.ferry.api.auth.FerryUser;
import dev.ferry.api.auth.TokenHash;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CodecSessionsTest {
  static final ApiUser VAL = new ApiUser("val", Set.of("viewer"), TokenHash.sha256Hex("token-val"));
  static final byte[] KEY = new byte[32];
  static final Instant NOW = Instant.parse("2026-12-04T20:00:00Z");

  static CodecSessions at(Instant now, List<ApiUser> users) {
    return new CodecSessions(users, Duration.ofHours(8), Clock.fixed(now, ZoneOffset.UTC), KEY);
  }

  @Test
  void aSignIn_namesItsUser_untilItExpires() {
    String cookie = at(NOW, List.of(VAL)).issue(new FerryUser("val", Set.of("viewer"))).cookie();

    assertThat(at(NOW.plus(Duration.ofHours(7)), List.of(VAL)).verify(cookie)).contains(new FerryUser("val", Set.of("viewer")));
    assertThat(at(NOW.plus(Duration.ofHours(8)), List.of(VAL)).verify(cookie)).isEmpty();
  }

  @Test
  void aChangedToken_orARemovedUser_orAnotherProcess_signsOut() {
    String cookie = at(NOW, List.of(VAL)).issue(new FerryUser("val", Set.of("viewer"))).cookie();

    ApiUser newToken = new ApiUser("val", Set.of("viewer"), TokenHash.sha256Hex("token-val-2"));
    assertThat(at(NOW, List.of(newToken)).verify(cookie)).isEmpty();
    assertThat(at(NOW, List.of()).verify(cookie)).isEmpty();
    assertThat(new CodecSessions(List.of(VAL), Duration.ofHours(8), Clock.fixed(NOW, ZoneOffset.UTC)).verify(cookie)).isEmpty();
  }

  @Test
  void rolesComeFromTheConfiguration_notTheCookie() {
    String cookie = at(NOW, List.of(VAL)).issue(new FerryUser("val", Set.of("viewer"))).cookie();
    ApiUser demoted = new ApiUser("val", Set.of("approver"), VAL.tokenSha256());

    assertThat(at(NOW, List.of(demoted)).verify(cookie)).contains(new FerryUser("val", Set.of("approver")));
  }

  @Test
  void garbage_isNobody() {
    CodecSessions sessions = at(NOW, List.of(VAL));
    for (String cookie : List.of("", "v1", "v1.dmFs.9999999999.", "v2.dmFs.9999999999.x", "v1.%%%.1.x", "v1.dmFs.never.x", "x".repeat(600))) {
      assertThat(sessions.verify(cookie)).as(cookie).isEmpty();
    }
  }

  @Test
  void theSessionsToString_neverShowsTheCookie() {
    CodecSessions.Session session = at(NOW, List.of(VAL)).issue(new FerryUser("val", Set.of("viewer")));

    assertThat(session.toString()).doesNotContain(session.cookie()).contains("val");
  }
}
