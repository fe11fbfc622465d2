/**
 * What the run did with each target it was given by host name (`run.names` in results.json): how
 * often this machine's resolver was asked and failed, and how many attempts went to each address it
 * gave — so a run against a name with several records says whether its devices spread over them.
 * Pure: workers' tallies and shards' are merged by summing.
 */

export interface NameTally {
  /** The host name as the target URL gave it. */
  host: string;
  /** Lookups herd started (device.dnsTtl: one serves the attempts of its time to live). */
  lookups: number;
  /** Of which failed (ENOTFOUND, EAI_AGAIN…; the attempts that waited for them failed in `dns`). */
  failedLookups: number;
  /** Attempts opened to each address the answers gave. */
  attempts: Record<string, number>;
}

/** The sum of `a` and `b`, by host (in order of first appearance), their attempts by address. */
export function mergeNameTallies(a: readonly NameTally[], b: readonly NameTally[]): NameTally[] {
  const out = new Map<string, NameTally>();
  for (const t of [...a, ...b]) {
    const m = out.get(t.host);
    if (m === undefined) {
      out.set(t.host, {
        host: t.host,
        lookups: t.lookups,
        failedLookups: t.failedLookups,
        attempts: { ...t.attempts },
      });
      continue;
    }
    m.lookups += t.lookups;
    m.failedLookups += t.failedLookups;
    for (const [addr, n] of Object.entries(t.attempts)) m.attempts[addr] = (m.attempts[addr] ?? 0) + n;
  }
  return [...out.values()];
}
