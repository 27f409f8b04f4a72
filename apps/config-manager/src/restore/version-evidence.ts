/** What is known of one service's versions outside the store. */
export interface VersionEvidence {
  /** The version in the manager's own HMAC'd snapshot (DATA_DIR) at start; 0: none. */
  snapshot: number;
  /** The highest version seen on the service's config topic signed with the manager's keys; 0: none. */
  bus: number;
  /** The applied version each instance last reported (unauthenticated), by instance id. */
  claims: ReadonlyMap<string, number>;
}

/** What the evidence says the store should be above. */
export interface EvidenceVerdict {
  /** The highest authentic version (snapshot, bus); 0: none. */
  authentic: number;
  /** The highest version the evidence supports: authentic ones and the believable claims. */
  highest: number;
  /** Claims too far above anything authentic (or the store) to be believed, by instance id. */
  ignored: ReadonlyMap<string, number>;
}

/**
 * Weighs the evidence of what a service's fleet runs against the store's current version.
 * The snapshot and the bus are signed by the manager, so they are believed as they are; an
 * instance's report is not signed, so a claim counts only up to `maxGap` above the highest
 * authentic version (the store's, when nothing authentic is above it): a forged status can
 * push the next version number up by at most `maxGap`, never to the end of the number space.
 */
export function weighEvidence(
  storeVersion: number,
  evidence: VersionEvidence,
  maxGap: number,
): EvidenceVerdict {
  const authentic = Math.max(evidence.snapshot, evidence.bus);
  const ceiling = Math.max(authentic, storeVersion) + maxGap;
  let highest = authentic;
  const ignored = new Map<string, number>();
  for (const [instanceId, claimed] of evidence.claims) {
    if (claimed > ceiling) ignored.set(instanceId, claimed);
    else highest = Math.max(highest, claimed);
  }
  return { authentic, highest, ignored };
}
