package dev.ferry.api.auth;

import dev.ferry.api.codec.CodecSessionFilter;
import dev.ferry.api.codec.CodecSessions;
import io.dropwizard.auth.AuthDynamicFeature;
import io.dropwizard.auth.AuthFilter;
import io.dropwizard.auth.AuthValueFactoryProvider;
import io.dropwizard.auth.JSONUnauthorizedHandler;
import io.dropwizard.auth.chained.ChainedAuthFilter;
import io.dropwizard.auth.oauth.OAuthCredentialAuthFilter;
import java.util.List;
import org.glassfish.jersey.server.filter.RolesAllowedDynamicFeature;

/** The Jersey components that make {@code Authorization: Bearer <token>} and {@code @RolesAllowed} work. */
public final class ApiAuth {
  private ApiAuth() {}

  public static List<Object> jerseyComponents(List<ApiUser> users) {
    return components(bearer(users));
  }

  /**
   * Bearer tokens everywhere, and on the codec's endpoints alone also the Temporal UI's sign-in
   * cookie ({@link CodecSessionFilter}).
   */
  public static List<Object> jerseyComponents(List<ApiUser> users, CodecSessions codecSessions) {
    AuthFilter<String, FerryUser> cookie =
        CodecSessionFilter.of(codecSessions, new RoleAuthorizer(), new JSONUnauthorizedHandler());
    return components(new ChainedAuthFilter<>(List.of(bearer(users), cookie)));
  }

  private static AuthFilter<String, FerryUser> bearer(List<ApiUser> users) {
    return new OAuthCredentialAuthFilter.Builder<FerryUser>()
        .setAuthenticator(new TokenAuthenticator(users))
        .setAuthorizer(new RoleAuthorizer())
        .setPrefix("Bearer")
        .setRealm("ferry")
        .setUnauthorizedHandler(new JSONUnauthorizedHandler())
        .buildAuthFilter();
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  private static List<Object> components(AuthFilter filter) {
    return List.of(
        new AuthDynamicFeature(filter),
        // Without this, @RolesAllowed is silently ignored.
        RolesAllowedDynamicFeature.class,
        new AuthValueFactoryProvider.Binder<>(FerryUser.class));
  }
}
