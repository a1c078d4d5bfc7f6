package dev.ferry.temporal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PKI for the TLS tests, made with OpenSSL when a test class starts, so no private
 * key is ever committed: a CA, a server certificate it signed for {@code temporal.test}, {@code
 * localhost} and {@code 127.0.0.1}, a client certificate it signed for client authentication,
 * and an unrelated CA (a server it did not sign must be refused). EC P-256; keys in PKCS#8 PEM,
 * the form Netty (and so the Temporal Java SDK) reads. The CA's key is deleted after signing.
 */
final class TestPki {
  private final Path dir;

  private TestPki(Path dir) {
    this.dir = dir;
  }

  static TestPki create() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("ferry-test-pki-");
    dir.toFile().deleteOnExit();
    TestPki pki = new TestPki(dir);
    pki.ca("ca", "Ferry test CA");
    pki.ca("other-ca", "Some other CA");
    pki.signed("server", "ferry-test-server", "subjectAltName=DNS:temporal.test,DNS:localhost,IP:127.0.0.1");
    pki.signed("client", "ferry-test-client", "extendedKeyUsage=clientAuth");
    Files.delete(dir.resolve("ca.key"));
    Files.delete(dir.resolve("other-ca.key"));
    return pki;
  }

  /** {@code ca.pem}, {@code server.pem}, {@code server.key}, {@code client.pem}, {@code client.key}, {@code other-ca.pem}. */
  File file(String name) {
    return dir.resolve(name).toFile();
  }

  private void ca(String name, String subject) throws IOException, InterruptedException {
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + subject);
  }

  private void signed(String name, String subject, String extension) throws IOException, InterruptedException {
    openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", name + ".ec.key", "-out", name + ".csr", "-subj", "/CN=" + subject);
    Files.writeString(dir.resolve(name + ".ext"), extension + "\n");
    openssl(
        "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext");
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", name + ".ec.key", "-out", name + ".key");
    for (String leftover : List.of(name + ".ec.key", name + ".csr", name + ".ext")) {
      Files.delete(dir.resolve(leftover));
    }
  }

  private void openssl(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
    }
  }

  /** Deletes the files; best effort. */
  void delete() {
    File[] files = dir.toFile().listFiles();
    if (files != null) {
      for (File f : files) {
        f.delete();
      }
    }
    dir.toFile().delete();
  }
}
