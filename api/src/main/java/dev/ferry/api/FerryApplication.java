package dev.ferry.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ferry.api.auth.ApiAuth;
import dev.ferry.api.auth.DevTokens;
import dev.ferry.api.codec.CodecCors;
import dev.ferry.api.codec.CodecResource;
import dev.ferry.api.codec.CodecSessions;
import dev.ferry.api.errors.ErrorMappers;
import dev.ferry.api.filters.BodySizeLimit;
import dev.ferry.api.health.TemporalHealthCheck;
import dev.ferry.api.resources.ApprovalsPage;
import dev.ferry.api.resources.RunbookReader;
import dev.ferry.api.resources.RunbooksResource;
import dev.ferry.api.resources.RehearsalsResource;
import dev.ferry.api.resources.RunsResource;
import dev.ferry.api.resources.SchedulesResource;
import dev.ferry.api.db.ScheduleRegistry;
import dev.ferry.api.schedules.RehearsalSchedules;
import dev.ferry.api.schedules.TemporalSchedules;
import dev.ferry.api.schedules.WorkflowScheduleConversion;
import dev.ferry.activities.rehearsal.RehearsalReportStore;
import dev.ferry.api.temporal.RehearsalStarter;
import dev.ferry.activities.ledger.LedgerDatabase;
import dev.ferry.api.db.RunLedger;
import dev.ferry.api.health.LedgerHealthCheck;
import dev.ferry.api.metrics.PrometheusMetrics;
import dev.ferry.model.ApprovalKeys;
import java.time.Clock;
import dev.ferry.api.temporal.RunGateway;
import dev.ferry.api.temporal.TemporalConnection;
import io.dropwizard.configuration.EnvironmentVariableSubstitutor;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.lifecycle.ServerLifecycleListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ferry's REST API: {@code java -jar ferry-api.jar server config.yml}. */
public class FerryApplication extends Application<FerryConfiguration> {
  private static final Logger log = LoggerFactory.getLogger(FerryApplication.class);
  /** No request of this API needs more; a runbook is a page of YAML. */
  static final long MAX_BODY_BYTES = 1024 * 1024;
  /** A codec request carries a payload Temporal took (2 MiB at most by default), in base64. */
  static final long CODEC_MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final List<ServerLifecycleListener> listeners = new ArrayList<>();
  private Consumer<Throwable> onFatal = e -> System.exit(1);

  public static void main(String[] args) throws Exception {
    new FerryApplication().run(args);
  }

  /** Tells a listener when Jetty has started (the embedded dev stack needs the server). */
  public FerryApplication whenStarted(ServerLifecycleListener listener) {
    listeners.add(listener);
    return this;
  }

  /** What to do when the API cannot start; by default the process exits. */
  public FerryApplication whenFatal(Consumer<Throwable> handler) {
    onFatal = handler;
    return this;
  }

  @Override
  protected void onFatalError(Throwable t) {
    onFatal.accept(t);
  }

  @Override
  public String getName() {
    return "ferry";
  }

  @Override
  public void initialize(Bootstrap<FerryConfiguration> bootstrap) {
    // ${VAR} and ${VAR:-default} in the configuration file come from the environment.
    bootstrap.setConfigurationSourceProvider(
        new SubstitutingSourceProvider(
            bootstrap.getConfigurationSourceProvider(), new EnvironmentVariableSubstitutor(false)));
    configure(bootstrap.getObjectMapper());
  }

  /** Dates as ISO-8601 text; unknown fields in a request body refused, not ignored. */
  public static ObjectMapper configure(ObjectMapper mapper) {
    return mapper
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  @Override
  public void run(FerryConfiguration config, Environment environment) {
    DevTokens.refuseOnPublicBind(config.getAuth().getUsers(), config.getServerFactory());
    PrometheusMetrics metrics = new PrometheusMetrics().withDropwizard(environment.metrics());
    environment.admin().addServlet("prometheus", metrics.servlet()).addMapping("/prometheus");

    TemporalConnection temporal = new TemporalConnection(config.getTemporal(), metrics.temporalScope());
    ApprovalKeys approvalKeys = config.getApprovals().keys();
    log.info(
        "Temporal at {} (namespace {}, task queue {}), {}, {}, {}",
        config.getTemporal().getAddress(),
        config.getTemporal().getNamespace(),
        config.getTemporal().getTaskQueue(),
        config.getTemporal().clientSecurity(),
        temporal.payloads(),
        approvalKeys);
    if (!approvalKeys.required()) {
      log.warn(ApprovalKeys.unsignedWarning(config.getTemporal().getAddress()));
    }
    environment.lifecycle().manage(temporal);
    environment.healthChecks().register("temporal", new TemporalHealthCheck(temporal.stubs(), config.getTemporal().getAddress()));

    LedgerDatabase database = LedgerDatabase.of(config.getLedger().getUrl(), System.getenv());
    int applied = database.migrate();
    log.info("run ledger at {}: {} schema migration(s) applied", database, applied);
    RunLedger ledger = new RunLedger(database, environment.getObjectMapper());
    environment.healthChecks().register("ledger", new LedgerHealthCheck(ledger, database.toString()));

    environment.jersey().register(new BodySizeLimit(MAX_BODY_BYTES).allowing("codec/", CODEC_MAX_BODY_BYTES));
    CodecSessions codecSessions = new CodecSessions(config.getAuth().getUsers(), config.getCodec().sessionTtl(), Clock.systemUTC());
    ApiAuth.jerseyComponents(config.getAuth().getUsers(), codecSessions).forEach(environment.jersey()::register);
    ErrorMappers.all().forEach(environment.jersey()::register);
    RunbookReader reader = new RunbookReader(config.getRunbooks().isCheckEnvReferences(), System.getenv());
    environment.jersey().register(
        new RunsResource(
            new RunGateway(temporal.client(), config.getTemporal().getTaskQueue()), ledger, reader, approvalKeys, Clock.systemUTC()));
    environment.jersey().register(
        new RehearsalsResource(
            new RehearsalStarter(temporal.client(), config.getTemporal().getTaskQueue()), ledger, new RehearsalReportStore(database), reader));
    environment.jersey().register(new RunbooksResource(reader));
    // Rehearsal schedules are Temporal schedules; the ledger lists and audits them.
    TemporalSchedules temporalSchedules = new TemporalSchedules(temporal.client(), config.getTemporal().getTaskQueue(), Clock.systemUTC());
    ScheduleRegistry scheduleRegistry = new ScheduleRegistry(database, environment.getObjectMapper());
    environment.jersey().register(
        new SchedulesResource(new RehearsalSchedules(temporalSchedules, scheduleRegistry, Clock.systemUTC()), reader, Clock.systemUTC()));
    environment.lifecycle().manage(new WorkflowScheduleConversion(temporalSchedules, scheduleRegistry, temporal.client(), Clock.systemUTC()));
    environment.jersey().register(new ApprovalsPage());
    // The Temporal UI's remote codec, for the UI origins in codec.allowedOrigins.
    environment.jersey().register(new CodecCors(config.getCodec().origins()));
    environment.jersey().register(
        new CodecResource(
            config.getTemporal().payloadEncryption(), codecSessions, config.getTemporal().getNamespace(), config.getCodec().isSecureCookie()));
    listeners.forEach(environment.lifecycle()::addServerLifecycleListener);
  }
}
