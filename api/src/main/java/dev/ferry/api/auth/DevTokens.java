package dev.ferry.api.auth;

import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.core.server.ServerFactory;
import io.dropwizard.core.server.SimpleServerFactory;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The README publishes the dev users' tokens; an API that accepts them must not listen beyond
 * this machine.
 */
public final class DevTokens {
  /** SHA-256 of ferry-dev-operator, ferry-dev-approver and ferry-dev-viewer. */
  static final Set<String> PUBLISHED_HASHES =
      Set.of(
          "141a32dab3427df3ac2b64b472e9ce8327dc7c1f03022215586c8a91a4dd8470",
          "23b266b88fd00f47746f08d50c789060c6d7f7c8ed6291f67b0c76a7988d58af",
          "2e3c92268e325373874ad86ba7b5d1956949dea5bb3183ee8151ab92e50f32b8");

  private DevTokens() {}

  /**
   * @throws IllegalStateException when a published dev token is configured and the API listens
   *     on anything but loopback
   */
  public static void refuseOnPublicBind(List<ApiUser> users, ServerFactory server) {
    List<String> devUsers =
        users.stream().filter(u -> PUBLISHED_HASHES.contains(u.tokenSha256())).map(ApiUser::name).toList();
    if (devUsers.isEmpty()) {
      return;
    }
    for (ConnectorFactory connector : applicationConnectors(server)) {
      if (connector instanceof HttpConnectorFactory http && !loopback(http.getBindHost())) {
        throw new IllegalStateException(
            "refusing to start: users "
                + devUsers
                + " have the dev tokens published in the README, and the API would listen on "
                + (http.getBindHost() == null ? "every interface" : http.getBindHost())
                + "; bind to 127.0.0.1 or give them tokens of your own (./ferry hash-token)");
      }
    }
  }

  private static List<ConnectorFactory> applicationConnectors(ServerFactory server) {
    List<ConnectorFactory> connectors = new ArrayList<>();
    if (server instanceof DefaultServerFactory d) {
      connectors.addAll(d.getApplicationConnectors());
    } else if (server instanceof SimpleServerFactory s) {
      connectors.add(s.getConnector());
    }
    return connectors;
  }

  private static boolean loopback(String host) {
    if (host == null || host.isBlank()) {
      return false;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
