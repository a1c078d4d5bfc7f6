package dev.ferry.temporal;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * How the worker and the API reach a Temporal frontend that is not on a private network:
 * server TLS, mutual TLS with a client certificate, an API key (Temporal Cloud), or none of
 * them (plaintext, the default: the bundled compose server and the embedded one).
 *
 * <p>The settings are the variables Temporal's own CLI and SDKs read, so one environment serves
 * {@code temporal} and Ferry alike:
 *
 * <ul>
 *   <li>{@code TEMPORAL_TLS}: {@code true} for server TLS with the system's trusted CAs; {@code
 *       false} to refuse TLS even with an API key; unset: TLS whenever another variable below is
 *       set;
 *   <li>{@code TEMPORAL_TLS_CLIENT_CERT_PATH} and {@code TEMPORAL_TLS_CLIENT_KEY_PATH}: the
 *       client certificate (PEM) and its key (PKCS#8 PEM) for mutual TLS; both or neither;
 *   <li>{@code TEMPORAL_TLS_SERVER_CA_CERT_PATH}: the CA (PEM) that signed the server's
 *       certificate, when it is not one the system trusts;
 *   <li>{@code TEMPORAL_TLS_SERVER_NAME}: the name to expect in the server's certificate, when
 *       it differs from the host in the address;
 *   <li>{@code TEMPORAL_API_KEY}: sent as {@code Authorization: Bearer <key>} on every call.
 * </ul>
 *
 * <p>Secrets stay secret: {@link #toString()} names the files and says whether an API key is
 * set, never its value, and no error message quotes a file's contents.
 */
public final class TemporalClientSecurity {
  public static final String TLS = "TEMPORAL_TLS";
  public static final String CLIENT_CERT = "TEMPORAL_TLS_CLIENT_CERT_PATH";
  public static final String CLIENT_KEY = "TEMPORAL_TLS_CLIENT_KEY_PATH";
  public static final String SERVER_CA = "TEMPORAL_TLS_SERVER_CA_CERT_PATH";
  public static final String SERVER_NAME = "TEMPORAL_TLS_SERVER_NAME";
  public static final String API_KEY = "TEMPORAL_API_KEY";

  private final boolean tls;
  private final Path clientCert;
  private final Path clientKey;
  private final Path serverCa;
  private final String serverName;
  private final String apiKey;

  private TemporalClientSecurity(
      boolean tls, Path clientCert, Path clientKey, Path serverCa, String serverName, String apiKey) {
    this.tls = tls;
    this.clientCert = clientCert;
    this.clientKey = clientKey;
    this.serverCa = serverCa;
    this.serverName = serverName;
    this.apiKey = apiKey;
  }

  /** No TLS, no API key. */
  public static TemporalClientSecurity plaintext() {
    return new TemporalClientSecurity(false, null, null, null, null, null);
  }

  /** From the {@code TEMPORAL_TLS*} and {@code TEMPORAL_API_KEY} variables of {@code env}. */
  public static TemporalClientSecurity fromEnvironment(Map<String, String> env) {
    return of(
        env.get(TLS), env.get(CLIENT_CERT), env.get(CLIENT_KEY), env.get(SERVER_CA), env.get(SERVER_NAME), env.get(API_KEY));
  }

  /**
   * From the variables' values; null or blank means unset.
   *
   * @throws IllegalArgumentException naming every variable that is wrong (never its value when
   *     it is a secret)
   */
  public static TemporalClientSecurity of(
      String tls, String clientCertPath, String clientKeyPath, String serverCaPath, String serverName, String apiKey) {
    List<String> problems = new ArrayList<>();
    Boolean tlsSetting = null;
    if (!blank(tls)) {
      switch (tls.trim().toLowerCase(Locale.ROOT)) {
        case "true" -> tlsSetting = true;
        case "false" -> tlsSetting = false;
        default -> problems.add(TLS + " must be true or false, not '" + tls.trim() + "'");
      }
    }
    Path cert = readableFile(CLIENT_CERT, clientCertPath, problems);
    Path key = readableFile(CLIENT_KEY, clientKeyPath, problems);
    Path ca = readableFile(SERVER_CA, serverCaPath, problems);
    if (blank(clientCertPath) != blank(clientKeyPath)) {
      problems.add(CLIENT_CERT + " and " + CLIENT_KEY + " go together: set both or neither");
    }
    boolean tlsFiles = !blank(clientCertPath) || !blank(clientKeyPath) || !blank(serverCaPath) || !blank(serverName);
    if (Boolean.FALSE.equals(tlsSetting) && tlsFiles) {
      problems.add(TLS + "=false contradicts the TLS settings also given (" + String.join(", ", tlsVariablesSet(clientCertPath, clientKeyPath, serverCaPath, serverName)) + ")");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("Temporal connection settings: " + String.join("; ", problems));
    }
    // An API key travels in a header: without TLS anyone on the path could read it, so it turns
    // TLS on unless TEMPORAL_TLS=false says the transport is protected some other way.
    boolean useTls = tlsSetting != null ? tlsSetting : tlsFiles || !blank(apiKey);
    return new TemporalClientSecurity(
        useTls, cert, key, ca, blank(serverName) ? null : serverName.trim(), blank(apiKey) ? null : apiKey.trim());
  }

  public boolean usesTls() {
    return tls;
  }

  public boolean hasClientCertificate() {
    return clientCert != null;
  }

  public boolean hasApiKey() {
    return apiKey != null;
  }

  /**
   * Sets TLS, the client certificate and the API key on {@code builder}; the caller sets the
   * target and everything else.
   *
   * @throws IllegalArgumentException when a certificate or key file cannot be loaded
   */
  public WorkflowServiceStubsOptions.Builder applyTo(WorkflowServiceStubsOptions.Builder builder) {
    if (apiKey != null) {
      String key = apiKey;
      builder.addApiKey(() -> key);
    }
    if (!tls) {
      // The SDK would turn TLS on by itself for an API key; TEMPORAL_TLS=false said not to.
      return builder.setEnableHttps(false);
    }
    builder.setEnableHttps(true);
    if (clientCert != null || serverCa != null) {
      try {
        SslContextBuilder ssl = GrpcSslContexts.forClient();
        if (serverCa != null) {
          ssl.trustManager(serverCa.toFile());
        }
        if (clientCert != null) {
          ssl.keyManager(clientCert.toFile(), clientKey.toFile());
        }
        builder.setSslContext(ssl.build());
      } catch (SSLException | IllegalArgumentException e) {
        // Netty names the file it could not read, never its contents.
        throw new IllegalArgumentException(
            "Temporal connection settings: cannot load the TLS files (" + describeFiles() + "): " + e.getMessage(), e);
      }
    }
    if (serverName != null) {
      String authority = serverName;
      builder.setChannelInitializer(channel -> channel.overrideAuthority(authority));
    }
    return builder;
  }

  /** What a log line may say: the mode and the files, never a key. */
  @Override
  public String toString() {
    if (!tls) {
      return apiKey == null ? "plaintext" : "plaintext with an API key (" + TLS + "=false)";
    }
    StringBuilder s = new StringBuilder(clientCert != null ? "mutual TLS" : "TLS");
    String files = describeFiles();
    if (!files.isEmpty()) {
      s.append(" (").append(files).append(')');
    }
    if (serverName != null) {
      s.append(", server name ").append(serverName);
    }
    if (apiKey != null) {
      s.append(", API key");
    }
    return s.toString();
  }

  private String describeFiles() {
    List<String> files = new ArrayList<>();
    if (clientCert != null) {
      files.add("client certificate " + clientCert + ", key " + clientKey);
    }
    if (serverCa != null) {
      files.add("server CA " + serverCa);
    }
    return String.join(", ", files);
  }

  private static List<String> tlsVariablesSet(String cert, String key, String ca, String name) {
    List<String> set = new ArrayList<>();
    if (!blank(cert)) set.add(CLIENT_CERT);
    if (!blank(key)) set.add(CLIENT_KEY);
    if (!blank(ca)) set.add(SERVER_CA);
    if (!blank(name)) set.add(SERVER_NAME);
    return set;
  }

  private static Path readableFile(String variable, String value, List<String> problems) {
    if (blank(value)) {
      return null;
    }
    Path path = Path.of(value.trim());
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      problems.add(variable + ": " + path + " is not a readable file");
    }
    return path;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
