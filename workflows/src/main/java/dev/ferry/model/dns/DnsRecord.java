package dev.ferry.model.dns;

import java.time.Duration;
import java.util.List;

/**
 * One Route 53 record set of the shifted name and type, as found or as written.
 *
 * @param setIdentifier the weighted record's identifier; {@code null} for a simple record
 * @param weight the weighted record's weight (0 to 255); {@code null} for a simple record
 * @param ttl its TTL
 * @param values what it answers
 */
public record DnsRecord(String setIdentifier, Long weight, Duration ttl, List<String> values) {

  public static DnsRecord simple(Duration ttl, List<String> values) {
    return new DnsRecord(null, null, ttl, values);
  }

  public static DnsRecord weighted(String setIdentifier, long weight, Duration ttl, String value) {
    return new DnsRecord(setIdentifier, weight, ttl, List.of(value));
  }
}
