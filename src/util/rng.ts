/**
 * Deterministic pseudo-random numbers (mulberry32). Plans must be a pure function of the scenario
 * and seed, so Math.random is never used by plan/ or by reconnect policies.
 */
export type Rng = () => number;

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream for a sub-purpose (a device, a wave) from the run seed. */
export function deriveSeed(seed: number, ...salt: number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const s of salt) {
    h = Math.imul(h ^ (s >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}
