package dev.ferry.activities.aws;

import dev.ferry.activities.Pause;
import dev.ferry.activity.DnsActivities;
import dev.ferry.model.Errors;
import dev.ferry.model.dns.DnsChange;
import dev.ferry.model.dns.DnsRecord;
import dev.ferry.model.dns.DnsRecords;
import dev.ferry.model.dns.TrafficRecords;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.route53.Route53Client;
import software.amazon.awssdk.services.route53.model.Change;
import software.amazon.awssdk.services.route53.model.ChangeAction;
import software.amazon.awssdk.services.route53.model.ChangeInfo;
import software.amazon.awssdk.services.route53.model.ChangeStatus;
import software.amazon.awssdk.services.route53.model.InvalidChangeBatchException;
import software.amazon.awssdk.services.route53.model.InvalidInputException;
import software.amazon.awssdk.services.route53.model.ListResourceRecordSetsResponse;
import software.amazon.awssdk.services.route53.model.NoSuchChangeException;
import software.amazon.awssdk.services.route53.model.NoSuchHostedZoneException;
import software.amazon.awssdk.services.route53.model.RRType;
import software.amazon.awssdk.services.route53.model.ResourceRecord;
import software.amazon.awssdk.services.route53.model.ResourceRecordSet;

/**
 * Route 53 weighted records for the traffic shift. Every change is computed from what is there
 * now, so a retry after a crash submits only what is still missing; every change is one atomic
 * batch; every changing call returns once Route 53 reports the change INSYNC.
 */
public class DnsActivitiesImpl implements DnsActivities {
  private static final Logger log = LoggerFactory.getLogger(DnsActivitiesImpl.class);
  static final Duration POLL_INTERVAL = Duration.ofSeconds(5);

  private final Supplier<Route53Client> route53;
  private final Pause pause;
  private final Duration pollInterval;

  /**
   * @param route53 made on first use (see {@link AwsClients#route53()})
   * @param pause waits between GetChange polls ({@link Pause#SLEEP} in production)
   */
  public DnsActivitiesImpl(Supplier<Route53Client> route53, Pause pause, Duration pollInterval) {
    this.route53 = route53;
    this.pause = pause;
    this.pollInterval = pollInterval;
  }

  public DnsActivitiesImpl(Supplier<Route53Client> route53) {
    this(route53, Pause.SLEEP, POLL_INTERVAL);
  }

  @Override
  public DnsRecords readRecords(TrafficRecords records) {
    return describe(records, current(records));
  }

  @Override
  public DnsChange lowerTtl(TrafficRecords records, Duration ttl) {
    List<ResourceRecordSet> current = current(records);
    List<Change> changes = new ArrayList<>();
    for (ResourceRecordSet set : current) {
      if (set.ttl() > ttl.toSeconds()) {
        changes.add(change(ChangeAction.UPSERT, set.toBuilder().ttl(ttl.toSeconds()).build()));
      }
    }
    return apply(records, changes, "lower the TTL of " + records.recordName() + " to " + ttl.toSeconds() + "s");
  }

  @Override
  public DnsChange setWeights(TrafficRecords records, int awsWeight, Duration ttl) {
    if (awsWeight < 0 || awsWeight > 100) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the AWS weight must be from 0 to 100, not " + awsWeight, Errors.DNS_CHANGE_REFUSED);
    }
    List<ResourceRecordSet> current = current(records);
    List<ResourceRecordSet> desired =
        List.of(
            weighted(records, records.herokuSetIdentifier(), 100 - awsWeight, ttl, records.herokuTarget()),
            weighted(records, records.awsSetIdentifier(), awsWeight, ttl, records.awsTarget()));
    return apply(
        records,
        changesTowards(current, desired),
        "send " + awsWeight + " % of " + records.recordName() + " to AWS");
  }

  @Override
  public DnsChange restoreRecords(TrafficRecords records, DnsRecords found) {
    List<ResourceRecordSet> current = current(records);
    List<ResourceRecordSet> desired = found.records().stream().map(r -> toSdk(records, r)).toList();
    return apply(records, changesTowards(current, desired), "restore " + records.recordName() + " as found");
  }

  /**
   * The batch that turns {@code current} into {@code desired}: deletions first (a simple record
   * must go before weighted ones of the same name can exist), then upserts of what differs.
   */
  private static List<Change> changesTowards(List<ResourceRecordSet> current, List<ResourceRecordSet> desired) {
    List<Change> deletes = new ArrayList<>();
    List<Change> upserts = new ArrayList<>();
    for (ResourceRecordSet have : current) {
      if (desired.stream().noneMatch(want -> Objects.equals(want.setIdentifier(), have.setIdentifier()))) {
        deletes.add(change(ChangeAction.DELETE, have));
      }
    }
    for (ResourceRecordSet want : desired) {
      Optional<ResourceRecordSet> have =
          current.stream().filter(c -> Objects.equals(c.setIdentifier(), want.setIdentifier())).findFirst();
      if (have.isEmpty() || !same(have.get(), want)) {
        upserts.add(change(ChangeAction.UPSERT, want));
      }
    }
    List<Change> all = new ArrayList<>(deletes);
    all.addAll(upserts);
    return all;
  }

  /**
   * Submits the batch and waits until INSYNC. An empty batch submits nothing, unless an earlier
   * attempt of this activity heartbeated a change it submitted: then that change is waited for.
   */
  private DnsChange apply(TrafficRecords records, List<Change> changes, String purpose) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Route53Client client = client();
    String zone = records.hostedZoneId();
    String changeId = null;
    if (changes.isEmpty()) {
      changeId = context.getHeartbeatDetails(String.class).orElse(null);
      if (changeId == null) {
        log.info("{}: nothing to change", purpose);
        return new DnsChange(null, 0, describe(records, current(records)));
      }
      log.info("{}: already submitted as {}; waiting for it", purpose, changeId);
    } else {
      try {
        ChangeInfo info =
            client
                .changeResourceRecordSets(
                    b ->
                        b.hostedZoneId(zone)
                            .changeBatch(c -> c.comment("Ferry: " + purpose).changes(changes)))
                .changeInfo();
        changeId = info.id();
        log.info("{}: submitted {} change(s) as {}", purpose, changes.size(), changeId);
      } catch (NoSuchHostedZoneException e) {
        throw zoneNotFound(records);
      } catch (InvalidChangeBatchException | InvalidInputException e) {
        throw ApplicationFailure.newNonRetryableFailure(
            "Route 53 refused to " + purpose + " in zone " + zone + ": " + AwsFailures.message(e),
            Errors.DNS_CHANGE_REFUSED);
      } catch (SdkException e) {
        throw AwsFailures.map("Route 53 ChangeResourceRecordSets in zone " + zone, e, true);
      }
    }
    int pending = waitInSync(context, client, changeId, purpose);
    if (pending < 0) {
      // The change an earlier attempt submitted is no longer known: the records are as asked
      // (the batch was empty), and changes older than Route 53 keeps are long in sync.
      pending = 0;
    }
    return new DnsChange(changeId, pending, describe(records, current(records)));
  }

  /** Polls GetChange until INSYNC; returns how many PENDING answers came first, -1 if unknown. */
  private int waitInSync(ActivityExecutionContext context, Route53Client client, String changeId, String purpose) {
    int pending = 0;
    while (true) {
      context.heartbeat(changeId);
      ChangeStatus status;
      try {
        status = client.getChange(b -> b.id(changeId)).changeInfo().status();
      } catch (NoSuchChangeException e) {
        return -1;
      } catch (SdkException e) {
        throw AwsFailures.map("Route 53 GetChange " + changeId, e, true);
      }
      if (status == ChangeStatus.INSYNC) {
        log.info("{}: {} INSYNC after {} PENDING answer(s)", purpose, changeId, pending);
        return pending;
      }
      pending++;
      pause.pause(pollInterval);
    }
  }

  /** The record sets of the name and type, refusing those Ferry could not shift or restore. */
  private List<ResourceRecordSet> current(TrafficRecords records) {
    Route53Client client = client();
    String name = fqdn(records.recordName());
    RRType type = RRType.fromValue(records.recordType());
    List<ResourceRecordSet> sets = new ArrayList<>();
    String nextName = name;
    RRType nextType = type;
    String nextIdentifier = null;
    try {
      while (true) {
        String startName = nextName;
        RRType startType = nextType;
        String startIdentifier = nextIdentifier;
        ListResourceRecordSetsResponse page =
            client.listResourceRecordSets(
                b ->
                    b.hostedZoneId(records.hostedZoneId())
                        .startRecordName(startName)
                        .startRecordType(startType)
                        .startRecordIdentifier(startIdentifier)
                        .maxItems("100"));
        boolean past = false;
        for (ResourceRecordSet set : page.resourceRecordSets()) {
          if (fqdn(set.name()).equals(name) && set.type() == type) {
            sets.add(set);
          } else {
            past = true;
          }
        }
        if (past || !Boolean.TRUE.equals(page.isTruncated())) {
          break;
        }
        nextName = page.nextRecordName();
        nextType = page.nextRecordType();
        nextIdentifier = page.nextRecordIdentifier();
        if (!fqdn(nextName).equals(name) || nextType != type) {
          break;
        }
      }
    } catch (NoSuchHostedZoneException e) {
      throw zoneNotFound(records);
    } catch (SdkException e) {
      throw AwsFailures.map("Route 53 ListResourceRecordSets in zone " + records.hostedZoneId(), e, true);
    }
    for (ResourceRecordSet set : sets) {
      String problem = unsupported(records, set);
      if (problem != null) {
        throw ApplicationFailure.newNonRetryableFailure(
            name + " " + type + " in zone " + records.hostedZoneId() + ": " + problem, Errors.DNS_RECORDS_UNSUPPORTED);
      }
    }
    return sets;
  }

  private static String unsupported(TrafficRecords records, ResourceRecordSet set) {
    String which = set.setIdentifier() == null ? "the record" : "the record '" + set.setIdentifier() + "'";
    if (set.aliasTarget() != null) {
      return which + " is an alias record; Ferry shifts value records only";
    }
    if (set.healthCheckId() != null) {
      return which + " has a Route 53 health check, which Ferry would not put back on rollback; remove it first";
    }
    if (set.setIdentifier() == null) {
      return null;
    }
    if (set.weight() == null) {
      return which + " uses another routing policy than weighted (failover, latency, geo…)";
    }
    if (!set.setIdentifier().equals(records.herokuSetIdentifier()) && !set.setIdentifier().equals(records.awsSetIdentifier())) {
      return which + " is a weighted record the runbook does not name (dns.setIdentifiers are '"
          + records.herokuSetIdentifier() + "' and '" + records.awsSetIdentifier()
          + "'); with it, Ferry could not send 100 % to either side";
    }
    return null;
  }

  private DnsRecords describe(TrafficRecords records, List<ResourceRecordSet> sets) {
    List<DnsRecord> out =
        sets.stream()
            .map(
                s ->
                    new DnsRecord(
                        s.setIdentifier(),
                        s.weight(),
                        Duration.ofSeconds(s.ttl() == null ? 0 : s.ttl()),
                        s.resourceRecords().stream().map(ResourceRecord::value).toList()))
            .sorted(Comparator.comparing(r -> r.setIdentifier() == null ? "" : r.setIdentifier()))
            .toList();
    return new DnsRecords(fqdn(records.recordName()), records.recordType(), out);
  }

  private static ResourceRecordSet weighted(TrafficRecords records, String setIdentifier, long weight, Duration ttl, String value) {
    return toSdk(records, DnsRecord.weighted(setIdentifier, weight, ttl, value));
  }

  private static ResourceRecordSet toSdk(TrafficRecords records, DnsRecord record) {
    return ResourceRecordSet.builder()
        .name(fqdn(records.recordName()))
        .type(RRType.fromValue(records.recordType()))
        .setIdentifier(record.setIdentifier())
        .weight(record.weight())
        .ttl(record.ttl().toSeconds())
        .resourceRecords(record.values().stream().map(v -> ResourceRecord.builder().value(v).build()).toList())
        .build();
  }

  private static boolean same(ResourceRecordSet a, ResourceRecordSet b) {
    return Objects.equals(a.setIdentifier(), b.setIdentifier())
        && Objects.equals(a.weight(), b.weight())
        && Objects.equals(a.ttl(), b.ttl())
        && values(a).equals(values(b));
  }

  /** Values as DNS compares them: case-insensitive, a final dot or not. */
  private static List<String> values(ResourceRecordSet set) {
    return set.resourceRecords().stream()
        .map(r -> r.value().toLowerCase(Locale.ROOT).replaceFirst("\\.$", ""))
        .sorted()
        .toList();
  }

  private static Change change(ChangeAction action, ResourceRecordSet set) {
    return Change.builder().action(action).resourceRecordSet(set).build();
  }

  static String fqdn(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return lower.endsWith(".") ? lower : lower + ".";
  }

  private static ApplicationFailure zoneNotFound(TrafficRecords records) {
    return ApplicationFailure.newNonRetryableFailure(
        "dns.hostedZoneId: Route 53 has no hosted zone " + records.hostedZoneId() + " that these AWS credentials can see",
        Errors.DNS_ZONE_NOT_FOUND);
  }

  private Route53Client client() {
    return AwsFailures.client("Route 53", route53);
  }
}
