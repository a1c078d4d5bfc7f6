package dev.ferry.activities.heroku;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.activities.secrets.SecretResolver;
import dev.ferry.activity.HerokuActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.heroku.DynoQuantity;
import dev.ferry.model.heroku.Formation;
import dev.ferry.model.heroku.HerokuApp;
import dev.ferry.model.heroku.MaintenanceChange;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maintenance mode and dyno formation through the Heroku Platform API. */
public class HerokuActivitiesImpl implements HerokuActivities {
  private static final Logger log = LoggerFactory.getLogger(HerokuActivitiesImpl.class);
  static final String TOKEN_FIELD = "heroku.apiToken";

  private final SecretResolver secrets;
  private final HerokuClient heroku;

  public HerokuActivitiesImpl(SecretResolver secrets, HerokuClient heroku) {
    this.secrets = secrets;
    this.heroku = heroku;
  }

  @Override
  public MaintenanceChange setMaintenance(HerokuApp app, boolean on) {
    HerokuClient.Session session = session(app);
    boolean before = session.app().path("maintenance").asBoolean();
    if (before == on) {
      log.info("Heroku app {}: maintenance mode already {}", app.app(), on ? "on" : "off");
      return new MaintenanceChange(app.app(), before, on);
    }
    ObjectNode body = JsonNodeFactory.instance.objectNode().put("maintenance", on);
    boolean after = session.updateApp(body).path("maintenance").asBoolean();
    log.info("Heroku app {}: maintenance mode {} → {}", app.app(), before ? "on" : "off", after ? "on" : "off");
    return new MaintenanceChange(app.app(), before, after);
  }

  @Override
  public Formation readFormation(HerokuApp app) {
    return formation(app, session(app).formation());
  }

  @Override
  public Formation scaleFormation(HerokuApp app, List<DynoQuantity> quantities) {
    HerokuClient.Session session = session(app);
    Formation current = formation(app, session.formation());
    Map<String, DynoQuantity> byType =
        current.processes().stream().collect(Collectors.toMap(DynoQuantity::type, Function.identity()));
    List<String> unknown = quantities.stream().map(DynoQuantity::type).filter(t -> !byType.containsKey(t)).toList();
    if (!unknown.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "Heroku app " + app.app() + " has no process type " + String.join(", ", unknown)
              + " (its types: " + String.join(", ", byType.keySet().stream().sorted().toList()) + ")",
          Errors.HEROKU_REQUEST_REFUSED);
    }
    List<DynoQuantity> changes =
        quantities.stream().filter(q -> byType.get(q.type()).quantity() != q.quantity()).toList();
    if (changes.isEmpty()) {
      log.info("Heroku app {}: formation already as asked", app.app());
      return current;
    }
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    var updates = body.putArray("updates");
    changes.forEach(q -> updates.addObject().put("type", q.type()).put("quantity", q.quantity()));
    session.updateFormation(body);
    Formation after = formation(app, session.formation());
    log.info(
        "Heroku app {}: scaled {}",
        app.app(),
        changes.stream().map(q -> q.type() + "=" + q.quantity()).collect(Collectors.joining(" ")));
    return after;
  }

  private HerokuClient.Session session(HerokuApp app) {
    return heroku.session(app, secrets.resolve(TOKEN_FIELD, app.apiTokenRef()));
  }

  private static Formation formation(HerokuApp app, JsonNode list) {
    List<DynoQuantity> processes = new ArrayList<>();
    for (JsonNode item : list) {
      processes.add(
          new DynoQuantity(
              item.path("type").asText(),
              item.path("quantity").asInt(),
              item.path("size").isMissingNode() || item.path("size").isNull() ? null : item.path("size").asText()));
    }
    processes.sort(Comparator.comparing(DynoQuantity::type));
    return new Formation(app.app(), List.copyOf(processes));
  }
}
