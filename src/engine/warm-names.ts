/**
 * Before the origin, each host name the worker's devices will look up is looked up once, its answer
 * thrown away: the resolver's libraries load and libuv's thread pool starts now, not inside the
 * first attempts' `dns` phase (the first lookup here cost 2–5 ms of loading, the next ones ~0.1 ms).
 * The devices' own first lookup still happens in the run (protocols/names.ts keeps nothing from
 * this one). Bounded: a resolver that does not answer in WARM_NAMES_MS delays the run no longer.
 */
import * as dns from 'node:dns';
import { familyOf } from '../protocols/names.js';

const WARM_NAMES_MS = 1_000;

/** Looks each name up once (the family the source addresses bind), all at once, for at most WARM_NAMES_MS. */
export async function warmNames(names: readonly string[], sourceIps: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const family = familyOf(sourceIps[0]);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, WARM_NAMES_MS);
  });
  // A failure is the run's to meet and report, in its dns phase: nothing to say here.
  const lookups = names.map((n) => new Promise<void>((resolve) => dns.lookup(n, { family }, () => resolve())));
  await Promise.race([Promise.all(lookups), deadline]);
  clearTimeout(timer);
}
