package dev.ferry.model.config;

import dev.ferry.model.heroku.HerokuApp;
import java.util.List;
import java.util.Map;

/**
 * Which config vars go where. Holds references and key names, never a value.
 *
 * @param source the Heroku app and its token reference
 * @param ssmPrefix parameters are named {@code <ssmPrefix>/<KEY>}
 * @param skip keys not copied
 * @param rewrite key → secret reference whose value is written instead of Heroku's
 */
public record ConfigVarCopy(HerokuApp source, String ssmPrefix, List<String> skip, Map<String, String> rewrite) {}
