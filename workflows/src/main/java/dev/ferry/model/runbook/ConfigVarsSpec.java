package dev.ferry.model.runbook;

import java.util.List;
import java.util.Map;

/**
 * The Heroku app's config vars, copied to SSM Parameter Store as SecureString parameters named
 * {@code <ssmPrefix>/<KEY>}.
 *
 * @param ssmPrefix where the parameters go, such as {@code /shop/production}
 * @param skip keys not copied
 * @param rewrite keys whose value comes from a reference instead of Heroku, such as {@code
 *     DATABASE_URL: ssm:/shop/DATABASE_URL} (the RDS database); written even when Heroku has no
 *     such key
 */
public record ConfigVarsSpec(String ssmPrefix, List<String> skip, Map<String, String> rewrite) {}
