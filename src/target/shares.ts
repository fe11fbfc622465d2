/**
 * Deterministic choices of "a share of things", so tests and herd's own loss accounting can know
 * exact counts. Two flavours:
 * - evenShare: of n consecutive decisions exactly floor(n × share) say yes, evenly spread
 *   (used for outages: "drop 30% of connections" drops exactly 30% of them);
 * - seededShare: independent seeded coin flips (mulberry32), for message loss, where an even
 *   pattern would always hit the same device in a round-robin workload.
 */
import { createRng, deriveSeed } from '../util/rng.js';

export type ShareChooser = () => boolean;

export function evenShare(share: number): ShareChooser {
  let i = 0;
  return () => {
    const yes = Math.floor((i + 1) * share) > Math.floor(i * share);
    i++;
    return yes;
  };
}

/** `salt` separates independent streams (e.g. delivery loss vs webhook loss) from one seed. */
export function seededShare(share: number, seed: number, salt: number): ShareChooser {
  if (share <= 0) return () => false;
  if (share >= 1) return () => true;
  const rng = createRng(deriveSeed(seed, salt));
  return () => rng() < share;
}

/** How many of the first n decisions of seededShare(share, seed, salt) say yes. */
export function seededShareCount(share: number, seed: number, salt: number, n: number): number {
  const choose = seededShare(share, seed, salt);
  let yes = 0;
  for (let k = 0; k < n; k++) if (choose()) yes++;
  return yes;
}

export const LOSS_SALT = { delivery: 1, webhook: 2 } as const;
