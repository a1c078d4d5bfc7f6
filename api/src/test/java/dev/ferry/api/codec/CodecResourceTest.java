package dev.ferry.api.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.FerryApplication;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.filters.BodySizeLimit;
import dev.ferry.api.resources.RunbookReader;
import dev.ferry.api.resources.RunbooksResource;
import dev.ferry.api.testing.TestUsers;
import dev.ferry.model.MigrationRequest;
import dev.ferry.temporal.PayloadEncryption;
import dev.ferry.testing.Runbooks;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import io.dropwizard.testing.junit5.ResourceExtension;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.DefaultDataConverter;
import jakarta.ws.rs.client.Entity;
import jakarta.ws.rs.client.Invocation;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The remote codec through Dropwizard's resource test support, with the API's own auth, error
 * mappers, body limit and CORS filter: who may decode and encode, the browser's preflight, the
 * round trip of a payload the worker encrypted, bad bodies, a key this API does not have, the
 * Temporal UI's sign-in cookie and where it is (not) accepted.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class CodecResourceTest {
  static final String KEY = PayloadEncryption.randomKey();
  static final PayloadEncryption ENCRYPTION = PayloadEncryption.of(KEY, "");
  static final String UI = "http://127.0.0.1:8233";
  static final CodecSessions SESSIONS = new CodecSessions(TestUsers.ALL, Duration.ofHours(8), Clock.systemUTC());
  static final ObjectMapper JSON = new ObjectMapper();

  static final ResourceExtension API = api();

  static ResourceExtension api() {
    RunbookReader reader = RunbookReader.fieldsOnly();
    ResourceExtension.Builder builder =
        ResourceExtension.builder()
            .setMapper(FerryApplication.configure(Jackson.newObjectMapper()))
            .addResource(new CodecResource(ENCRYPTION, SESSIONS, "default", false))
            .addResource(new RunbooksResource(reader))
            .addProvider(new CodecCors(List.of(UI)))
            .addProvider(new BodySizeLimit(1024 * 1024).allowing("codec/", 4 * 1024 * 1024));
    ApiAuth.jerseyComponents(TestUsers.ALL, SESSIONS).forEach(builder::addProvider);
    ErrorMappers.all().forEach(builder::addProvider);
    return builder.build();
  }

  /** A payload as the worker's data converter makes it: a run's input, encrypted. */
  static Payload encryptedInput() {
    return ENCRYPTION.dataConverter().toPayload(new MigrationRequest(Runbooks.shop(), "olivia")).orElseThrow();
  }

  @Test
  void decode_withoutAToken_is401() {
    try (Response r = post("/codec/decode", null, body(encryptedInput()))) {
      assertThat(r.getStatus()).isEqualTo(401);
      assertThat(r.getHeaderString("WWW-Authenticate")).startsWith("Bearer");
      assertThat(r.readEntity(String.class)).doesNotContain("env:SHOP_SOURCE_URL");
    }
  }

  @Test
  void decode_needsTheViewerRole_andEncode_anOperatorOrApprover() {
    // olivia (TestUsers) is an operator and nothing else: she may not read payloads here.
    try (Response r = post("/codec/decode", "olivia", body(encryptedInput()))) {
      assertThat(r.getStatus()).isEqualTo(403);
    }
    try (Response r = post("/codec/encode", "val", body(plain("{\"gate\":\"start\"}")))) {
      assertThat(r.getStatus()).isEqualTo(403);
    }
    try (Response r = post("/codec/encode", "arjun", body(plain("{\"gate\":\"start\"}")))) {
      assertThat(r.getStatus()).isEqualTo(200);
    }
  }

  @Test
  void aPayloadTheWorkerEncrypted_decodesToItsJson_withReferencesNotSecrets() throws Exception {
    Payload encrypted = encryptedInput();
    assertThat(encrypted.getMetadataOrThrow("encoding").toStringUtf8()).isEqualTo(PayloadEncryption.ENCODING);

    JsonNode decoded = decode("val", encrypted);

    JsonNode payload = decoded.path("payloads").get(0);
    assertThat(text(payload.path("metadata").path("encoding"))).isEqualTo("json/plain");
    JsonNode input = JSON.readTree(text(payload.path("data")));
    assertThat(input.path("startedBy").asText()).isEqualTo("olivia");
    assertThat(input.path("runbook").path("source").path("databaseUrl").asText()).isEqualTo("env:SHOP_SOURCE_URL");
    // Decoded, it is exactly what the worker's converter reads back.
    assertThat(DefaultDataConverter.STANDARD_INSTANCE.fromPayload(payload(payload), MigrationRequest.class, MigrationRequest.class))
        .isEqualTo(new MigrationRequest(Runbooks.shop(), "olivia"));
  }

  @Test
  void encodeThenDecode_roundTrips_andEncodeEncryptsWithTheCurrentKey() throws Exception {
    Payload plain = plain("{\"gate\":\"start\",\"verdict\":\"APPROVE\"}");
    // As the UI's start and signal forms send it: proto JSON, base64 metadata and data.
    String fromTheUi =
        "{\"payloads\":[{\"metadata\":{\"encoding\":\"anNvbi9wbGFpbg==\"},\"data\":\""
            + Base64.getEncoder().encodeToString(plain.getData().toByteArray()) + "\"}]}";
    JsonNode encoded;
    try (Response r = post("/codec/encode", "sam", fromTheUi)) {
      assertThat(r.getStatus()).isEqualTo(200);
      encoded = JSON.readTree(r.readEntity(String.class));
    }
    JsonNode sealed = encoded.path("payloads").get(0);
    assertThat(text(sealed.path("metadata").path("encoding"))).isEqualTo(PayloadEncryption.ENCODING);
    assertThat(text(sealed.path("metadata").path(PayloadEncryption.KEY_ID))).isEqualTo(ENCRYPTION.currentKeyId());
    assertThat(text(sealed.path("data"))).doesNotContain("APPROVE");

    JsonNode decoded = decode("val", payload(sealed));

    assertThat(payload(decoded.path("payloads").get(0))).isEqualTo(plain);
  }

  @Test
  void aPayloadUnderAKeyThisApiDoesNotHave_isPassedBackAsItCame_andTheOthersStillDecode() {
    Payload foreign = PayloadEncryption.of(PayloadEncryption.randomKey(), "").encode(List.of(plain("{\"x\":1}"))).get(0);
    Payload never = plain("{\"written\":\"before encryption\"}");

    JsonNode decoded = decode("val", foreign, encryptedInput(), never);

    assertThat(payload(decoded.path("payloads").get(0))).isEqualTo(foreign);
    assertThat(text(decoded.path("payloads").get(1).path("metadata").path("encoding"))).isEqualTo("json/plain");
    assertThat(payload(decoded.path("payloads").get(2))).isEqualTo(never);
  }

  @Test
  void aCredentialInADecodedPayload_isMaskedBeforeItLeaves() {
    Payload leaky =
        ENCRYPTION.encode(List.of(plain("{\"message\":\"cannot connect to postgres://ferry:s3cret-pw@db.internal:5432/shop (password=s3cret-pw)\"}"))).get(0);

    JsonNode decoded = decode("val", leaky);

    String shown = text(decoded.path("payloads").get(0).path("data"));
    assertThat(shown).doesNotContain("s3cret-pw").contains("postgres://ferry:***@db.internal:5432/shop", "password=***");
  }

  @Test
  void malformedBodies_are400_namingWhatIsWrong() throws Exception {
    assertProblem("{\"payloads\": [", "body", "is not JSON");
    assertProblem("", "body", "is empty");
    assertProblem("[]", "body", "must be a JSON object");
    assertProblem("{}", "payloads", "is required");
    assertProblem("{\"payloads\": {}}", "payloads", "must be an array");
    assertProblem("{\"payloads\": [{\"data\": \"%%%\"}]}", "payloads[0].data", "is not base64");
    assertProblem("{\"payloads\": [{\"metadata\": {\"encoding\": 7}}]}", "payloads[0].metadata.encoding", "must be a base64 string");
    assertProblem("{\"payloads\": [{}, {\"dta\": \"eA==\"}]}", "payloads[1].dta", "is not a field of Payload");
    assertProblem("{\"payloads\": [], \"namespace\": \"x\"}", "namespace", "is not a field of Payloads");
  }

  @Test
  void anotherNamespace_isRefused() {
    try (Response r = request("/codec/decode", "val").header("X-Namespace", "payments").post(Entity.json(body(encryptedInput())))) {
      assertThat(r.getStatus()).isEqualTo(400);
      assertThat(r.readEntity(JsonNode.class).path("errors").get(0).path("field").asText()).isEqualTo("X-Namespace");
    }
    try (Response r = request("/codec/decode", "val").header("X-Namespace", "default").post(Entity.json(body(encryptedInput())))) {
      assertThat(r.getStatus()).isEqualTo(200);
    }
  }

  @Test
  void thePreflightOfTheTemporalUi_isAnswered_andAnotherOriginRefused() {
    try (Response r =
        API.target("/codec/decode").request()
            .header("Origin", UI)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type,x-namespace")
            .options()) {
      assertThat(r.getStatus()).isEqualTo(204);
      assertThat(r.getHeaderString("Access-Control-Allow-Origin")).isEqualTo(UI);
      assertThat(r.getHeaderString("Access-Control-Allow-Credentials")).isEqualTo("true");
      assertThat(r.getHeaderString("Access-Control-Allow-Methods")).contains("POST");
      assertThat(r.getHeaderString("Access-Control-Allow-Headers")).contains("Content-Type", "X-Namespace", "Authorization");
    }
    try (Response r =
        API.target("/codec/decode").request()
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .options()) {
      assertThat(r.getStatus()).isEqualTo(403);
      assertThat(r.getHeaderString("Access-Control-Allow-Origin")).isNull();
    }
    // The answer itself tells the UI's page it may read it.
    try (Response r = request("/codec/decode", "val").header("Origin", UI).post(Entity.json(body(encryptedInput())))) {
      assertThat(r.getStatus()).isEqualTo(200);
      assertThat(r.getHeaderString("Access-Control-Allow-Origin")).isEqualTo(UI);
      assertThat(r.getHeaderString("Vary")).contains("Origin");
    }
    // Another origin's page does not get to call the codec at all, token or not.
    try (Response r = request("/codec/decode", "val").header("Origin", "https://evil.example").post(Entity.json(body(encryptedInput())))) {
      assertThat(r.getStatus()).isEqualTo(403);
    }
  }

  @Test
  void theUisSignInCookie_decodes_butOpensNothingElse() {
    NewCookie cookie;
    try (Response r = request("/codec/session", "val").post(Entity.json(""))) {
      assertThat(r.getStatus()).isEqualTo(200);
      cookie = r.getCookies().get(CodecSessions.COOKIE);
    }
    assertThat(cookie).isNotNull();
    assertThat(cookie.isHttpOnly()).isTrue();
    assertThat(cookie.getSameSite()).isEqualTo(NewCookie.SameSite.STRICT);
    assertThat(cookie.getPath()).isEqualTo("/codec");
    assertThat(cookie.getMaxAge()).isEqualTo(8 * 3600);
    String header = CodecSessions.COOKIE + "=" + cookie.getValue();

    try (Response r = API.target("/codec/decode").request().header("Cookie", header).header("Origin", UI).post(Entity.json(body(encryptedInput())))) {
      assertThat(r.getStatus()).isEqualTo(200);
    }
    try (Response r = API.target("/codec/session").request().header("Cookie", header).get()) {
      assertThat(r.readEntity(JsonNode.class).path("user").asText()).isEqualTo("val");
    }
    // Any other endpoint takes a bearer token only: a browser's cookie starts and plans nothing.
    try (Response r = API.target("/api/runbooks/validate").request().header("Cookie", header).post(Entity.entity(Runbooks.SHOP_YAML, "application/yaml"))) {
      assertThat(r.getStatus()).isEqualTo(401);
    }
    // Nor does it make a new sign-in: that takes the token.
    try (Response r = API.target("/codec/session").request().header("Cookie", header).post(Entity.json(""))) {
      assertThat(r.getStatus()).isEqualTo(401);
    }
    // An altered cookie is nobody's.
    String altered = header.substring(0, header.length() - 2) + (header.endsWith("AA") ? "BB" : "AA");
    try (Response r = API.target("/codec/decode").request().header("Cookie", altered).post(Entity.json(body(encryptedInput())))) {
      assertThat(r.getStatus()).isEqualTo(401);
    }
    // Signing out clears it.
    try (Response r = API.target("/codec/session").request().header("Cookie", header).delete()) {
      assertThat(r.getStatus()).isEqualTo(204);
      assertThat(r.getCookies().get(CodecSessions.COOKIE).getMaxAge()).isZero();
    }
  }

  @Test
  void anOperatorOnlyUser_cannotSignTheUiIn() {
    try (Response r = request("/codec/session", "olivia").post(Entity.json(""))) {
      assertThat(r.getStatus()).isEqualTo(403);
      assertThat(r.getCookies()).doesNotContainKey(CodecSessions.COOKIE);
    }
  }

  private static void assertProblem(String body, String field, String message) throws Exception {
    try (Response r = request("/codec/decode", "val").post(Entity.json(body))) {
      assertThat(r.getStatus()).as(body).isEqualTo(400);
      JsonNode error = JSON.readTree(r.readEntity(String.class));
      assertThat(error.path("errors").findValuesAsText("field")).as(body).contains(field);
      JsonNode problem = null;
      for (JsonNode e : error.path("errors")) {
        if (e.path("field").asText().equals(field)) {
          problem = e;
        }
      }
      assertThat(problem.path("message").asText()).as(body).contains(message);
    }
  }

  private static JsonNode decode(String user, Payload... payloads) {
    try (Response r = post("/codec/decode", user, body(payloads))) {
      assertThat(r.getStatus()).isEqualTo(200);
      assertThat(r.getMediaType().toString()).startsWith("application/json");
      return JSON.readTree(r.readEntity(String.class));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Response post(String path, String user, String body) {
    return request(path, user).post(Entity.json(body));
  }

  private static Invocation.Builder request(String path, String user) {
    Invocation.Builder b = API.target(path).request();
    return user == null ? b : b.header("Authorization", TestUsers.bearer(user));
  }

  static Payload plain(String json) {
    return Payload.newBuilder()
        .putMetadata("encoding", com.google.protobuf.ByteString.copyFromUtf8("json/plain"))
        .setData(com.google.protobuf.ByteString.copyFromUtf8(json))
        .build();
  }

  /** The wire format, written as Temporal's UI writes it (proto JSON). */
  static String body(Payload... payloads) {
    return PayloadsJson.write(List.of(payloads));
  }

  static Payload payload(JsonNode node) {
    return PayloadsJson.read("{\"payloads\": [" + node + "]}").get(0);
  }

  static String text(JsonNode base64) {
    return new String(Base64.getDecoder().decode(base64.asText()), StandardCharsets.UTF_8);
  }

}
