package dev.ferry.testing;

import dev.ferry.model.RunSearchAttributes;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.testing.TestWorkflowEnvironment;

/**
 * Registers Ferry's search attributes in a time-skipping test environment, as {@code ./ferry
 * dev} and compose register them on the real server: the test server, like the real one, fails
 * a workflow task that upserts an attribute it does not know.
 */
public final class TestSearchAttributes {
  private TestSearchAttributes() {}

  public static TestWorkflowEnvironment registerIn(TestWorkflowEnvironment env) {
    RunSearchAttributes.ALL.forEach(
        key -> env.registerSearchAttribute(key.getName(), IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD));
    return env;
  }
}
