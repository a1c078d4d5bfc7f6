package dev.ferry.api.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.ferry.api.errors.ApiException;
import dev.ferry.api.representations.ErrorBody.FieldProblem;
import io.temporal.api.common.v1.Payload;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The remote codec's wire format, as Temporal's UI, CLI and Go SDK ({@code
 * converter.NewPayloadCodecHTTPHandler}) send it: {@code temporal.api.common.v1.Payloads} in
 * proto JSON, {@code {"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}}.
 * Read strictly: a body that is not one is refused with every problem named by field.
 */
final class PayloadsJson {
  /** More payloads than any event or batch of the UI holds. */
  static final int MAX_PAYLOADS = 10_000;

  private static final Set<String> PAYLOAD_FIELDS = Set.of("metadata", "data");
  private static final ObjectMapper JSON = new ObjectMapper();

  private PayloadsJson() {}

  /** @throws ApiException 400 naming each field that is wrong */
  static List<Payload> read(String body) {
    if (body == null || body.isBlank()) {
      throw bad(List.of(new FieldProblem("body", "is empty; send {\"payloads\": [...]} (Temporal's Payloads in proto JSON)")));
    }
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw bad(List.of(new FieldProblem("body", "is not JSON: " + e.getOriginalMessage())));
    }
    List<FieldProblem> problems = new ArrayList<>();
    if (root == null || !root.isObject()) {
      throw bad(List.of(new FieldProblem("body", "must be a JSON object {\"payloads\": [...]}")));
    }
    root.fieldNames().forEachRemaining(name -> {
      if (!name.equals("payloads")) {
        problems.add(new FieldProblem(name, "is not a field of Payloads; only payloads is"));
      }
    });
    JsonNode payloads = root.get("payloads");
    if (payloads == null || !payloads.isArray()) {
      problems.add(new FieldProblem("payloads", payloads == null ? "is required" : "must be an array"));
      throw bad(problems);
    }
    if (payloads.size() > MAX_PAYLOADS) {
      problems.add(new FieldProblem("payloads", "holds " + payloads.size() + " payloads; at most " + MAX_PAYLOADS + " at once"));
      throw bad(problems);
    }
    List<Payload> out = new ArrayList<>(payloads.size());
    for (int i = 0; i < payloads.size(); i++) {
      out.add(payload(payloads.get(i), "payloads[" + i + "]", problems));
    }
    if (!problems.isEmpty()) {
      throw bad(problems);
    }
    return out;
  }

  /** The response body: the payloads in the same proto JSON (empty fields left out, as protojson does). */
  static String write(List<Payload> payloads) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode array = root.putArray("payloads");
    Base64.Encoder base64 = Base64.getEncoder();
    for (Payload p : payloads) {
      ObjectNode node = array.addObject();
      if (p.getMetadataCount() > 0) {
        ObjectNode metadata = node.putObject("metadata");
        p.getMetadataMap().entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .forEach(e -> metadata.put(e.getKey(), base64.encodeToString(e.getValue().toByteArray())));
      }
      if (!p.getData().isEmpty()) {
        node.put("data", base64.encodeToString(p.getData().toByteArray()));
      }
    }
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON of payloads", e);
    }
  }

  private static Payload payload(JsonNode node, String field, List<FieldProblem> problems) {
    if (!node.isObject()) {
      problems.add(new FieldProblem(field, "must be an object {\"metadata\": {...}, \"data\": \"<base64>\"}"));
      return Payload.getDefaultInstance();
    }
    Payload.Builder p = Payload.newBuilder();
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!PAYLOAD_FIELDS.contains(name)) {
        problems.add(new FieldProblem(field + "." + name, "is not a field of Payload; it has metadata and data"));
      }
    }
    JsonNode metadata = node.get("metadata");
    if (metadata != null && !metadata.isNull()) {
      if (!metadata.isObject()) {
        problems.add(new FieldProblem(field + ".metadata", "must be an object of base64 strings"));
      } else {
        metadata.fields().forEachRemaining(e -> {
          ByteString value = bytes(e.getValue(), field + ".metadata." + e.getKey(), problems);
          p.putMetadata(e.getKey(), value);
        });
      }
    }
    JsonNode data = node.get("data");
    if (data != null && !data.isNull()) {
      p.setData(bytes(data, field + ".data", problems));
    }
    return p.build();
  }

  /** Proto JSON bytes: standard or URL-safe base64, padded or not. */
  private static ByteString bytes(JsonNode value, String field, List<FieldProblem> problems) {
    if (!value.isTextual()) {
      problems.add(new FieldProblem(field, "must be a base64 string"));
      return ByteString.EMPTY;
    }
    String text = value.asText();
    try {
      boolean urlSafe = text.indexOf('-') >= 0 || text.indexOf('_') >= 0;
      return ByteString.copyFrom((urlSafe ? Base64.getUrlDecoder() : Base64.getDecoder()).decode(text));
    } catch (IllegalArgumentException e) {
      problems.add(new FieldProblem(field, "is not base64: " + e.getMessage()));
      return ByteString.EMPTY;
    }
  }

  private static ApiException bad(List<FieldProblem> problems) {
    return new ApiException(
        ApiException.BAD_REQUEST,
        "not a Payloads body: " + problems.size() + " problem(s); send {\"payloads\": [{\"metadata\": {...}, \"data\": \"<base64>\"}]}",
        problems);
  }
}
