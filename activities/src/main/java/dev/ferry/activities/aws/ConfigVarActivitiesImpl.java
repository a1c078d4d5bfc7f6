package dev.ferry.activities.aws;

import dev.ferry.activities.heroku.HerokuClient;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.ConfigVarActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.config.ConfigVarCopy;
import dev.ferry.model.config.ConfigVarsCopied;
import dev.ferry.model.config.ConfigVarsVerified;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.Parameter;
import software.amazon.awssdk.services.ssm.model.ParameterTier;
import software.amazon.awssdk.services.ssm.model.ParameterType;

/**
 * Copies a Heroku app's config vars to SSM Parameter Store as SecureString parameters, and checks
 * they all arrived. Values live only in this class's local variables: results, failures and logs
 * name keys, never values (AWS's own error messages are left out too: SSM's validation messages
 * can quote the value).
 */
public class ConfigVarActivitiesImpl implements ConfigVarActivities {
  private static final Logger log = LoggerFactory.getLogger(ConfigVarActivitiesImpl.class);
  /** What an SSM parameter name may hold after the prefix. */
  private static final Pattern SSM_KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,1011}");
  private static final Set<String> RETRYABLE_SSM = Set.of("TooManyUpdates", "ThrottlingException", "InternalServerError");

  private final SecretResolver secrets;
  private final HerokuClient heroku;
  private final Supplier<SsmClient> ssm;

  /** @param ssm made on first use (see {@link AwsClients#ssm()}) */
  public ConfigVarActivitiesImpl(SecretResolver secrets, HerokuClient heroku, Supplier<SsmClient> ssm) {
    this.secrets = secrets;
    this.heroku = heroku;
    this.ssm = ssm;
  }

  @Override
  public ConfigVarsCopied copyConfigVarsToSsm(ConfigVarCopy copy) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Expected expected = expected(copy);
    SsmClient client = AwsFailures.client("SSM", ssm);
    Map<String, Stored> stored = stored(client, copy.ssmPrefix());
    List<String> written = new ArrayList<>();
    List<String> unchanged = new ArrayList<>();
    int done = 0;
    for (Map.Entry<String, String> entry : expected.values.entrySet()) {
      String key = entry.getKey();
      Stored have = stored.get(key);
      if (have != null && have.secure() && have.value().equals(entry.getValue())) {
        unchanged.add(key);
      } else {
        put(client, copy, key, entry.getValue());
        written.add(key);
      }
      context.heartbeat(++done);
    }
    log.info(
        "config vars of {} → {}: {} written, {} already there, {} rewritten, {} skipped, {} empty",
        copy.source().app(), copy.ssmPrefix(), written.size(), unchanged.size(),
        expected.rewritten.size(), expected.skipped.size(), expected.empty.size());
    return new ConfigVarsCopied(
        copy.ssmPrefix(),
        written.size() + unchanged.size(),
        written,
        unchanged,
        expected.rewritten,
        expected.skipped,
        expected.empty);
  }

  @Override
  public ConfigVarsVerified verifyConfigVarsInSsm(ConfigVarCopy copy) {
    Expected expected = expected(copy);
    Map<String, Stored> stored = stored(AwsFailures.client("SSM", ssm), copy.ssmPrefix());
    List<String> missing = new ArrayList<>();
    List<String> differing = new ArrayList<>();
    List<String> notSecure = new ArrayList<>();
    expected.values.forEach(
        (key, value) -> {
          Stored have = stored.get(key);
          if (have == null) {
            missing.add(key);
          } else {
            if (!have.value().equals(value)) {
              differing.add(key);
            }
            if (!have.secure()) {
              notSecure.add(key);
            }
          }
        });
    List<String> extra = stored.keySet().stream().filter(k -> !expected.values.containsKey(k)).sorted().toList();
    boolean complete = missing.isEmpty() && differing.isEmpty() && notSecure.isEmpty();
    ConfigVarsVerified result =
        new ConfigVarsVerified(copy.ssmPrefix(), complete, expected.values.size(), missing, differing, notSecure, extra);
    log.info("config vars of {} in {}: {}", copy.source().app(), copy.ssmPrefix(), result.summary());
    return result;
  }

  /** The keys and values SSM must hold, sorted by key, and what was left out and why. */
  private record Expected(
      Map<String, String> values, List<String> rewritten, List<String> skipped, List<String> empty) {}

  private Expected expected(ConfigVarCopy copy) {
    String token = secrets.resolve("heroku.apiToken", copy.source().apiTokenRef());
    Map<String, String> vars = heroku.session(copy.source(), token).configVars();
    Set<String> skip = Set.copyOf(copy.skip() == null ? List.of() : copy.skip());
    Map<String, String> rewrite = copy.rewrite() == null ? Map.of() : copy.rewrite();
    Map<String, String> values = new TreeMap<>();
    List<String> skipped = new ArrayList<>();
    List<String> empty = new ArrayList<>();
    List<String> unnamable = new ArrayList<>();
    for (Map.Entry<String, String> var : new TreeMap<>(vars).entrySet()) {
      String key = var.getKey();
      if (skip.contains(key)) {
        skipped.add(key);
      } else if (rewrite.containsKey(key)) {
        continue;
      } else if (!SSM_KEY.matcher(key).matches()) {
        unnamable.add(key);
      } else if (var.getValue().isEmpty()) {
        empty.add(key);
      } else {
        values.put(key, var.getValue());
      }
    }
    if (!unnamable.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "config vars of " + copy.source().app() + " that cannot name an SSM parameter: " + String.join(", ", unnamable)
              + "; list them in configVars.skip or rename them on Heroku",
          Errors.CONFIG_VAR_UNSUPPORTED);
    }
    List<String> rewritten = new ArrayList<>(new TreeMap<>(rewrite).keySet());
    for (String key : rewritten) {
      values.put(key, secrets.resolve("configVars.rewrite." + key, rewrite.get(key)));
    }
    return new Expected(values, rewritten, skipped, empty);
  }

  private record Stored(String value, boolean secure) {}

  /** The parameters directly under the prefix, decrypted, by key. */
  private static Map<String, Stored> stored(SsmClient client, String prefix) {
    Map<String, Stored> out = new TreeMap<>();
    try {
      for (var page : client.getParametersByPathPaginator(b -> b.path(prefix).recursive(false).withDecryption(true))) {
        for (Parameter p : page.parameters()) {
          out.put(p.name().substring(prefix.length() + 1), new Stored(p.value(), p.type() == ParameterType.SECURE_STRING));
        }
      }
    } catch (SdkException e) {
      throw ssmFailure("SSM GetParametersByPath " + prefix, e);
    }
    return out;
  }

  private static void put(SsmClient client, ConfigVarCopy copy, String key, String value) {
    String name = copy.ssmPrefix() + "/" + key;
    try {
      client.putParameter(
          b ->
              b.name(name)
                  .value(value)
                  .type(ParameterType.SECURE_STRING)
                  .overwrite(true)
                  .tier(ParameterTier.INTELLIGENT_TIERING)
                  .description("Heroku config var " + key + " of " + copy.source().app() + ", copied by Ferry"));
    } catch (AwsServiceException e) {
      if ("ValidationException".equals(AwsFailures.code(e))) {
        throw ApplicationFailure.newNonRetryableFailure(
            "SSM refused the value of config var " + key + " for " + name
                + " (ValidationException; too long for a parameter?); skip or rewrite it in configVars",
            Errors.CONFIG_VAR_UNSUPPORTED);
      }
      throw ssmFailure("SSM PutParameter " + name, e);
    } catch (SdkException e) {
      throw ssmFailure("SSM PutParameter " + name, e);
    }
  }

  private static ApplicationFailure ssmFailure(String what, SdkException e) {
    if (e instanceof AwsServiceException service && RETRYABLE_SSM.contains(AwsFailures.code(service))) {
      return ApplicationFailure.newFailure(what + " failed (" + AwsFailures.code(service) + "); will retry", Errors.AWS_UNAVAILABLE);
    }
    return AwsFailures.map(what, e, false);
  }
}
