package dev.ferry.api.auth;

import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import java.util.Set;

/**
 * One API user as configured.
 *
 * @param tokenSha256 hex SHA-256 of the user's bearer token; make one with {@code ./ferry
 *     hash-token}
 */
public record ApiUser(
    @JsonProperty @NotBlank @Pattern(regexp = "[A-Za-z0-9._@-]{1,64}") String name,
    @JsonProperty @NotEmpty Set<@Pattern(regexp = "operator|approver|viewer") String> roles,
    @JsonProperty @NotBlank @Pattern(regexp = "[0-9a-f]{64}", message = "must be 64 hex digits (SHA-256)")
        String tokenSha256) {}
