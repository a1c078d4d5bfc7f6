package dev.ferry.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.internal.testservice.TestServicesStarter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection settings against a real gRPC server with TLS that requires a client
 * certificate from the test CA, in front of Temporal's test services. The certificates are made
 * for the run ({@link TestPki}): no key is committed.
 */
class TemporalClientSecurityTest {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final List<String> authorizationsSeen = new CopyOnWriteArrayList<>();
  static TestPki pki;
  static TestServicesStarter services;
  static io.grpc.Server server;

  @BeforeAll
  static void startMutualTlsServer() throws Exception {
    pki = TestPki.create();
    services = new TestServicesStarter(true, 0);
    ServerInterceptor recordAuthorization =
        new ServerInterceptor() {
          @Override
          public <Q, A> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            String value = headers.get(AUTHORIZATION);
            if (value != null) {
              authorizationsSeen.add(value);
            }
            return next.startCall(call, headers);
          }
        };
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .sslContext(
                GrpcSslContexts.forServer(tls("server.pem"), tls("server.key"))
                    .trustManager(tls("ca.pem"))
                    .clientAuth(ClientAuth.REQUIRE)
                    .build());
    services.getServices().forEach(s -> builder.addService(ServerInterceptors.intercept(s, recordAuthorization)));
    server = builder.build().start();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (services != null) {
      services.close();
    }
    if (pki != null) {
      pki.delete();
    }
  }

  @Test
  void nothingSet_isPlaintext() {
    TemporalClientSecurity security = TemporalClientSecurity.fromEnvironment(Map.of());

    WorkflowServiceStubsOptions options = security.applyTo(WorkflowServiceStubsOptions.newBuilder()).build();
    assertThat(security.usesTls()).isFalse();
    assertThat(options.getEnableHttps()).isFalse();
    assertThat(options.getSslContext()).isNull();
    assertThat(security).hasToString("plaintext");
  }

  @Test
  void apiKeyAlone_turnsOnTlsWithTheSystemsCas_andIsNeverPrinted() {
    TemporalClientSecurity security = TemporalClientSecurity.fromEnvironment(Map.of("TEMPORAL_API_KEY", "tk-very-secret"));

    WorkflowServiceStubsOptions options = security.applyTo(WorkflowServiceStubsOptions.newBuilder()).build();
    assertThat(security.usesTls()).isTrue();
    assertThat(options.getEnableHttps()).isTrue();
    assertThat(security.toString()).isEqualTo("TLS, API key").doesNotContain("tk-very-secret");
  }

  @Test
  void tlsFalse_keepsAnApiKeyOnPlaintext_asTheOperatorAsked() {
    TemporalClientSecurity security =
        TemporalClientSecurity.fromEnvironment(Map.of("TEMPORAL_API_KEY", "k", "TEMPORAL_TLS", "false"));

    assertThat(security.applyTo(WorkflowServiceStubsOptions.newBuilder()).build().getEnableHttps()).isFalse();
  }

  @Test
  void wrongSettings_areRefusedTogether_namingEachVariable() {
    Map<String, String> env = new HashMap<>();
    env.put("TEMPORAL_TLS", "yes");
    env.put("TEMPORAL_TLS_CLIENT_CERT_PATH", tls("client.pem").toString());
    env.put("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "/no/such/ca.pem");

    assertThatThrownBy(() -> TemporalClientSecurity.fromEnvironment(env))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TEMPORAL_TLS must be true or false, not 'yes'")
        .hasMessageContaining("TEMPORAL_TLS_SERVER_CA_CERT_PATH: /no/such/ca.pem is not a readable file")
        .hasMessageContaining("TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together");
  }

  @Test
  void tlsFalse_withCertificates_isAContradiction() {
    assertThatThrownBy(
            () -> TemporalClientSecurity.of("false", null, null, tls("ca.pem").toString(), null, null))
        .hasMessageContaining("TEMPORAL_TLS=false contradicts")
        .hasMessageContaining("TEMPORAL_TLS_SERVER_CA_CERT_PATH");
  }

  @Test
  void mutualTls_withTheServersCa_andAnApiKey_reachesTheServer_andSendsTheKeyAsBearer() {
    Map<String, String> env = mutualTls("ca.pem");
    env.put("TEMPORAL_API_KEY", "tk-for-the-test");
    TemporalClientSecurity security = TemporalClientSecurity.fromEnvironment(env);

    systemInfo(security);

    assertThat(authorizationsSeen).contains("Bearer tk-for-the-test");
    assertThat(security.toString())
        .startsWith("mutual TLS (client certificate ")
        .contains("server CA ", "server name temporal.test", "API key")
        .doesNotContain("tk-for-the-test");
  }

  @Test
  void noClientCertificate_isRefusedByAServerThatRequiresOne() {
    Map<String, String> env = mutualTls("ca.pem");
    env.remove("TEMPORAL_TLS_CLIENT_CERT_PATH");
    env.remove("TEMPORAL_TLS_CLIENT_KEY_PATH");

    assertThatThrownBy(() -> systemInfo(TemporalClientSecurity.fromEnvironment(env)))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aServerSignedByAnotherCa_isNotTrusted() {
    assertThatThrownBy(() -> systemInfo(TemporalClientSecurity.fromEnvironment(mutualTls("other-ca.pem"))))
        .isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aKeyFileThatIsNoKey_failsNamingTheFiles() {
    TemporalClientSecurity security =
        TemporalClientSecurity.of("", tls("client.pem").toString(), tls("ca.pem").toString(), null, null, null);

    assertThatThrownBy(() -> security.applyTo(WorkflowServiceStubsOptions.newBuilder()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot load the TLS files (client certificate ");
  }

  /** Cert, key and CA of the test PKI; the server's certificate names temporal.test. */
  private static Map<String, String> mutualTls(String ca) {
    Map<String, String> env = new HashMap<>();
    env.put("TEMPORAL_TLS_CLIENT_CERT_PATH", tls("client.pem").toString());
    env.put("TEMPORAL_TLS_CLIENT_KEY_PATH", tls("client.key").toString());
    env.put("TEMPORAL_TLS_SERVER_CA_CERT_PATH", tls(ca).toString());
    env.put("TEMPORAL_TLS_SERVER_NAME", "temporal.test");
    return env;
  }

  private static void systemInfo(TemporalClientSecurity security) {
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            security
                .applyTo(WorkflowServiceStubsOptions.newBuilder())
                .setTarget("127.0.0.1:" + server.getPort())
                .setRpcTimeout(Duration.ofSeconds(5))
                .build());
    try {
      stubs.blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS).getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
    } finally {
      stubs.shutdownNow();
    }
  }

  private static File tls(String name) {
    return pki.file(name);
  }
}
