package dev.ferry.api.auth;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DevTokensTest {
  static final ApiUser DEV = new ApiUser("olivia", Set.of("operator"), TokenHash.sha256Hex("ferry-dev-operator"));
  static final ApiUser OWN = new ApiUser("olivia", Set.of("operator"), TokenHash.sha256Hex("a-real-secret-token"));

  @Test
  void devTokensOnLoopback_areFine() {
    assertThatCode(() -> DevTokens.refuseOnPublicBind(List.of(DEV), server("127.0.0.1"))).doesNotThrowAnyException();
    assertThatCode(() -> DevTokens.refuseOnPublicBind(List.of(DEV), server("localhost"))).doesNotThrowAnyException();
  }

  @Test
  void devTokensOnEveryInterface_areRefused() {
    assertThatThrownBy(() -> DevTokens.refuseOnPublicBind(List.of(DEV), server(null)))
        .hasMessageContaining("every interface")
        .hasMessageContaining("[olivia]");
    assertThatThrownBy(() -> DevTokens.refuseOnPublicBind(List.of(DEV), server("0.0.0.0")))
        .hasMessageContaining("0.0.0.0");
  }

  @Test
  void ownTokens_mayListenAnywhere() {
    assertThatCode(() -> DevTokens.refuseOnPublicBind(List.of(OWN), server("0.0.0.0"))).doesNotThrowAnyException();
  }

  private static DefaultServerFactory server(String bindHost) {
    HttpConnectorFactory http = new HttpConnectorFactory();
    http.setBindHost(bindHost);
    DefaultServerFactory factory = new DefaultServerFactory();
    factory.setApplicationConnectors(List.of(http));
    return factory;
  }
}
