package dev.ferry.api.auth;

import io.dropwizard.auth.AuthDynamicFeature;
import io.dropwizard.auth.AuthValueFactoryProvider;
import io.dropwizard.auth.JSONUnauthorizedHandler;
import io.dropwizard.auth.oauth.OAuthCredentialAuthFilter;
import java.util.List;
import org.glassfish.jersey.server.filter.RolesAllowedDynamicFeature;

/** The Jersey components that make {@code Authorization: Bearer <token>} and {@code @RolesAllowed} work. */
public final class ApiAuth {
  private ApiAuth() {}

  public static List<Object> jerseyComponents(List<ApiUser> users) {
    return List.of(
        new AuthDynamicFeature(
            new OAuthCredentialAuthFilter.Builder<FerryUser>()
                .setAuthenticator(new TokenAuthenticator(users))
                .setAuthorizer(new RoleAuthorizer())
                .setPrefix("Bearer")
                .setRealm("ferry")
                .setUnauthorizedHandler(new JSONUnauthorizedHandler())
                .buildAuthFilter()),
        // Without this, @RolesAllowed is silently ignored.
        RolesAllowedDynamicFeature.class,
        new AuthValueFactoryProvider.Binder<>(FerryUser.class));
  }
}
