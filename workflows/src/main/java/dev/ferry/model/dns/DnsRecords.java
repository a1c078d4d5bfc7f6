package dev.ferry.model.dns;

import java.time.Duration;
import java.util.List;

/**
 * Every record set of one name and type in a hosted zone: what {@code readRecords} found (the
 * state {@code restoreRecords} puts back), or what a change left.
 *
 * @param recordName the name, fully qualified with its final dot, as Route 53 spells it
 */
public record DnsRecords(String recordName, String recordType, List<DnsRecord> records) {

  /**
   * The longest TTL among the records ({@link Duration#ZERO} when there are none): how long a
   * resolver may keep answering from what it read before the TTL was lowered.
   */
  public Duration longestTtl() {
    return records.stream().map(DnsRecord::ttl).max(Duration::compareTo).orElse(Duration.ZERO);
  }

  /** The weight of the record with this set identifier, or {@code null} when there is none. */
  public Long weightOf(String setIdentifier) {
    return records.stream()
        .filter(r -> setIdentifier.equals(r.setIdentifier()))
        .map(DnsRecord::weight)
        .findFirst()
        .orElse(null);
  }

  /** One line for the run's step detail: {@code heroku=90 aws=10 ttl 60s}. */
  public String describe() {
    if (records.isEmpty()) {
      return "no " + recordType + " record for " + recordName;
    }
    StringBuilder out = new StringBuilder();
    for (DnsRecord r : records) {
      if (out.length() > 0) {
        out.append(", ");
      }
      out.append(r.setIdentifier() == null ? "simple" : r.setIdentifier() + "=" + r.weight())
          .append(" → ")
          .append(String.join(" ", r.values()))
          .append(" ttl ")
          .append(r.ttl().toSeconds())
          .append("s");
    }
    return out.toString();
  }
}
