package dev.ferry.model.config;

import java.util.List;

/**
 * What a copy did, by key name only (values never leave the activity).
 *
 * @param written keys whose parameter was created or overwritten
 * @param unchanged keys whose parameter already held the value (a retry finds its own work)
 * @param rewritten keys whose value came from the runbook's rewrite reference (also in written
 *     or unchanged)
 * @param skipped keys the runbook skips that Heroku has
 * @param empty keys Heroku holds with an empty value: SSM cannot store an empty parameter, so
 *     they are not copied and the app on AWS must not rely on them being set
 */
public record ConfigVarsCopied(
    String ssmPrefix,
    int copied,
    List<String> written,
    List<String> unchanged,
    List<String> rewritten,
    List<String> skipped,
    List<String> empty) {}
