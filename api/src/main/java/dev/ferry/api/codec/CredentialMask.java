package dev.ferry.api.codec;

import com.google.protobuf.ByteString;
import io.temporal.api.common.v1.Payload;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The codec's last line before the browser: a decoded payload that holds something shaped like a
 * credential (the password of a URL {@code scheme://user:password@host}, a {@code password=} of a
 * connection string) has it replaced by {@code ***}. Ferry never puts one in a payload (runbooks
 * hold references; activities name users and hosts, never passwords), so a mask here is a bug
 * elsewhere: it is logged, without the value, so that it gets fixed, and the UI never sees it.
 */
final class CredentialMask {
  static final String MASK = "***";
  private static final Pattern URL_PASSWORD =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]{0,30}://[^\\s/:@\"'\\\\]{0,256}):([^\\s/@\"'\\\\]{1,512})@");
  private static final Pattern KEY_VALUE_PASSWORD =
      Pattern.compile("(?i)\\b(password|passwd|pwd)(\\s*=\\s*)('[^']*'|[^\\s&;\"'\\\\]+)");
  /** A JSON member named like a password: {@code "password": "..."}. */
  private static final Pattern JSON_PASSWORD =
      Pattern.compile("(?i)(\"(?:password|passwd|pwd|secret)\"\\s*:\\s*)\"((?:[^\"\\\\]|\\\\.)*)\"");

  private CredentialMask() {}

  /** The payload, with what looks like a credential masked; the same object when nothing does. */
  static Payload mask(Payload payload) {
    String text = utf8(payload.getData());
    if (text == null) {
      return payload;
    }
    String masked = maskText(text);
    if (masked.equals(text)) {
      return payload;
    }
    return payload.toBuilder().setData(ByteString.copyFromUtf8(masked)).build();
  }

  static String maskText(String text) {
    String out = replace(URL_PASSWORD.matcher(text), m -> m.group(1) + ":" + MASK + "@");
    out = replace(KEY_VALUE_PASSWORD.matcher(out), m -> m.group(1) + m.group(2) + MASK);
    return replace(JSON_PASSWORD.matcher(out), m -> m.group(1) + "\"" + MASK + "\"");
  }

  private static String replace(Matcher m, java.util.function.Function<Matcher, String> with) {
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(with.apply(m)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The bytes as text, or null when they are not UTF-8 (binary data has no such text in it). */
  private static String utf8(ByteString data) {
    if (data.isEmpty()) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(data.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
