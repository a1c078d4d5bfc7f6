package dev.ferry.activity;

import dev.ferry.model.verify.ChangedVerification;
import dev.ferry.model.verify.PreverifyCoverage;
import dev.ferry.model.verify.PreverifyRequest;
import io.temporal.activity.ActivityInterface;

/**
 * Verification done before the freeze, so that the write downtime does not grow with the
 * database. While the sync runs, {@link #preverifyWhileSyncing} proves the target chunk by chunk
 * (the chunked checksums of {@link VerifyActivities}) and re-checks, row by row, what changes
 * after its proof; the proofs live on the target ({@code ferry_verify_<tag>}), never in a
 * payload. With the source frozen and drained, {@link #verifyChangedSincePreverified} re-checks
 * only what has no standing proof. {@link #dropPreverification} removes the bookkeeping: it is the
 * compensation of the first, registered before it, and the teardown at decommission.
 */
@ActivityInterface
public interface PreverifyActivities {
  /**
   * Until cancelled: sets up the bookkeeping and the capture of writes made to the target outside
   * the sync (and, for the logical method, a key capture on the source), splits the tables into
   * chunks, proves them, and re-checks changed rows, throttled to a share of the databases' time.
   * Heartbeats a small {@code Progress}; a retry resumes from the bookkeeping. Fails for good
   * ({@code VerificationFailed}), naming the table and key range, when a chunk or row keeps
   * differing with no change in flight to explain it.
   */
  void preverifyWhileSyncing(PreverifyRequest request);

  /** How much is proven, and since when. Reads only. */
  PreverifyCoverage measurePreverification(PreverifyRequest request);

  /**
   * With the source frozen and the sync drained: re-checks every chunk without a standing proof
   * and every row changed since its proof, and compares sequences, schema and large objects in
   * full. Exact at the frozen point. Resumable: what it proves is recorded as it goes.
   */
  ChangedVerification verifyChangedSincePreverified(PreverifyRequest request);

  /** Removes the bookkeeping and the captures on both sides. Idempotent. */
  void dropPreverification(PreverifyRequest request);
}
