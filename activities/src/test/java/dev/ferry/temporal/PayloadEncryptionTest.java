package dev.ferry.temporal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.ferry.model.MigrationRequest;
import dev.ferry.testing.Runbooks;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.common.converter.DataConverter;
import io.temporal.failure.ApplicationFailure;
import io.temporal.payload.codec.PayloadCodecException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PayloadEncryptionTest {
  static final String KEY = PayloadEncryption.randomKey();
  static final String OTHER = PayloadEncryption.randomKey();

  @Test
  void aWorkflowInput_roundTrips_andIsCiphertextOnTheWire() {
    DataConverter converter = PayloadEncryption.of(KEY, "").dataConverter();
    MigrationRequest request = new MigrationRequest(Runbooks.shop(), "olivia");

    Payloads wire = converter.toPayloads(request).orElseThrow();

    Payload p = wire.getPayloads(0);
    assertThat(p.getMetadataOrThrow("encoding").toStringUtf8()).isEqualTo(PayloadEncryption.ENCODING);
    assertThat(p.getData().toStringUtf8()).doesNotContain("SHOP_SOURCE_URL", "olivia", "shop");
    assertThat(converter.fromPayloads(0, Optional.of(wire), MigrationRequest.class, MigrationRequest.class)).isEqualTo(request);
  }

  @Test
  void failureMessages_areEncryptedToo() {
    DataConverter converter = PayloadEncryption.of(KEY, "").dataConverter();

    var failure = converter.exceptionToFailure(ApplicationFailure.newFailure("password hunter2 refused", "DatabaseAuthFailed"));

    assertThat(failure.toString()).doesNotContain("hunter2");
    assertThat(((ApplicationFailure) converter.failureToException(failure)).getOriginalMessage()).isEqualTo("password hunter2 refused");
  }

  @Test
  void anAlteredPayload_orAnUnknownKey_isRefused_butAPreviousKeyStillReads() {
    PayloadEncryption old = PayloadEncryption.of(OTHER, "");
    Payload sealed = old.encode(List.of(plain("hello"))).get(0);
    byte[] data = sealed.getData().toByteArray();
    data[data.length - 1] ^= 1;
    Payload altered = sealed.toBuilder().setData(ByteString.copyFrom(data)).build();

    assertThatThrownBy(() -> PayloadEncryption.of(KEY, "").decode(List.of(sealed)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("FERRY_PAYLOAD_PREVIOUS_KEYS");
    assertThat(PayloadEncryption.of(KEY, OTHER).decode(List.of(sealed)).get(0).getData().toStringUtf8()).isEqualTo("hello");
    assertThatThrownBy(() -> old.decode(List.of(altered))).isInstanceOf(PayloadCodecException.class).hasMessageContaining("altered");
  }

  @Test
  void payloadsWrittenBeforeEncryption_stillRead() {
    assertThat(PayloadEncryption.of(KEY, "").decode(List.of(plain("old"))).get(0).getData().toStringUtf8()).isEqualTo("old");
  }

  @Test
  void aKeyThatIsNot32Bytes_isRefused_withoutQuotingIt() {
    assertThatThrownBy(() -> PayloadEncryption.of("c2hvcnQtc2VjcmV0", ""))
        .hasMessageContaining("32 bytes")
        .hasMessageNotContaining("c2hvcnQtc2VjcmV0");
    assertThatThrownBy(() -> PayloadEncryption.of("not base64 at all!", "")).hasMessageContaining("not base64");
    assertThat(PayloadEncryption.of(KEY, "").toString()).doesNotContain(KEY);
  }

  private static Payload plain(String text) {
    return Payload.newBuilder()
        .putMetadata("encoding", ByteString.copyFromUtf8("json/plain"))
        .setData(ByteString.copyFromUtf8(text))
        .build();
  }
}
