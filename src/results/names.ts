/**
 * What the run did with each target it was given by host name (`run.names` in results.json): how
 * often this machine's resolver was asked and failed, and per address it gave, the attempts that
 * went there and how they ended — so a run against a name with several records says whether its
 * devices spread over them, and which address refused them. Pure: workers' tallies and shards' are
 * merged by summing.
 */

/** The attempts opened to one address, and of them those that connected and those that failed. */
export interface AddressTally {
  attempts: number;
  succeeded: number;
  /** Failed or timed out after the socket was opened to this address. */
  failed: number;
}

export interface NameTally {
  /** The host name as the target URL gave it. */
  host: string;
  /** Lookups herd started (device.dnsTtl: one serves the attempts of its time to live). */
  lookups: number;
  /** Of which failed (ENOTFOUND, EAI_AGAIN…; the attempts that waited for them failed in `dns`). */
  failedLookups: number;
  /** Per address the answers gave. */
  addresses: Record<string, AddressTally>;
}

/** The sum of `a` and `b`, by host (in order of first appearance), and within it by address. */
export function mergeNameTallies(a: readonly NameTally[], b: readonly NameTally[]): NameTally[] {
  const out = new Map<string, NameTally>();
  for (const t of [...a, ...b]) {
    let m = out.get(t.host);
    if (m === undefined) out.set(t.host, (m = { host: t.host, lookups: 0, failedLookups: 0, addresses: {} }));
    m.lookups += t.lookups;
    m.failedLookups += t.failedLookups;
    for (const [addr, n] of Object.entries(t.addresses)) {
      const s = (m.addresses[addr] ??= { attempts: 0, succeeded: 0, failed: 0 });
      s.attempts += n.attempts;
      s.succeeded += n.succeeded;
      s.failed += n.failed;
    }
  }
  return [...out.values()];
}
