package dev.ferry.activities.aws;

import java.util.function.Supplier;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.rds.RdsClient;
import software.amazon.awssdk.services.route53.Route53Client;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The worker's AWS clients, made on first use: a worker whose runbooks never touch AWS needs no
 * region or credentials, and starts without them. Credentials come from the default provider
 * chain; the region from {@code AWS_REGION} (Route 53 is global and signs for us-east-1).
 */
public final class AwsClients {
  private AwsClients() {}

  public static Supplier<Route53Client> route53() {
    return lazy(() -> Route53Client.builder().region(Region.AWS_GLOBAL).httpClient(UrlConnectionHttpClient.create()).build());
  }

  public static Supplier<RdsClient> rds() {
    return lazy(() -> RdsClient.builder().httpClient(UrlConnectionHttpClient.create()).build());
  }

  public static Supplier<SsmClient> ssm() {
    return lazy(() -> SsmClient.builder().httpClient(UrlConnectionHttpClient.create()).build());
  }

  /** Makes the value once, on first use; a failure to make it is retried on the next use. */
  public static <T> Supplier<T> lazy(Supplier<T> make) {
    return new Supplier<>() {
      private T value;

      @Override
      public synchronized T get() {
        if (value == null) {
          value = make.get();
        }
        return value;
      }
    };
  }
}
