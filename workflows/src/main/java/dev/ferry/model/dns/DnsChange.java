package dev.ferry.model.dns;

/**
 * A change Route 53 applied and propagated to all its name servers (INSYNC).
 *
 * @param changeId Route 53's change id; {@code null} when the records already were as asked and
 *     nothing was submitted
 * @param pendingPolls how many times Route 53 answered PENDING before INSYNC
 * @param records the record sets after the change
 */
public record DnsChange(String changeId, int pendingPolls, DnsRecords records) {}
