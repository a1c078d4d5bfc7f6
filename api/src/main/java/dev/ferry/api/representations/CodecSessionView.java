package dev.ferry.api.representations;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/** The Temporal UI's sign-in to the codec: whom it names and, when just made, until when. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CodecSessionView(String user, Instant expiresAt) {}
