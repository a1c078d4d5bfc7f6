package dev.ferry.model.dns;

/**
 * The two weighted records of a traffic shift: one name and type in one hosted zone, one record
 * answering the Heroku target, one the AWS target. From {@code DnsSpec.records()}.
 */
public record TrafficRecords(
    String hostedZoneId,
    String recordName,
    String recordType,
    String herokuSetIdentifier,
    String herokuTarget,
    String awsSetIdentifier,
    String awsTarget) {}
