package dev.ferry.api;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dropwizard.configuration.ConfigurationException;
import io.dropwizard.configuration.YamlConfigurationFactory;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.jersey.validation.Validators;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A configuration file of one's own that still sets what Ferry no longer has is refused, naming it. */
class RemovedSettingsTest {

  @Test
  void schedulesBackend_isRefusedAtStart_namingTheField() {
    YamlConfigurationFactory<FerryConfiguration> factory =
        new YamlConfigurationFactory<>(
            FerryConfiguration.class, Validators.newValidator(), FerryApplication.configure(Jackson.newObjectMapper()), "dw");
    String yaml = "schedules:\n  backend: workflow\n";

    assertThatThrownBy(() -> factory.build(path -> new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "ferry.yml"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("Unrecognized field at: schedules");
  }
}
