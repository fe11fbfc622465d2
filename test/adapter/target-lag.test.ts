/**
 * The embedded target's own account of its host (run.targetLag) covers the run's measured span
 * only: a real target process, whose event loop a CONNECT blocks for 300 ms (handshakeBurnsCpu),
 * reports that stall inside the span and not after it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnEmbeddedTarget, type EmbeddedTarget } from '../../src/target/spawn.js';
import { rawConnect } from './target-helpers.js';

const BURN_MS = 300;
/** The probe ticks every 20 ms: a 300 ms block makes a tick at least this late. */
const AT_LEAST_LATE_MS = BURN_MS - 20;

let target: EmbeddedTarget | null = null;
afterEach(async () => {
  await target?.stop();
  target = null;
});

describe('target lag', () => {
  it('a stall after the plan has ended is not counted; one inside the span is', async () => {
    target = await spawnEmbeddedTarget({ handshakeCostMs: BURN_MS, handshakeBurnsCpu: true });
    // A run whose 1 s span ended 9 s ago: the stall that follows is its teardown's, not a measured answer's.
    target.setOrigin(process.hrtime.bigint() - 10_000_000_000n, 1_000_000);
    // Messages reach the process in order: once this is answered, the span above is in force.
    const before = await target.lag();
    expect(before).not.toBeNull();
    expect(await rawConnect(target.port, { version: 4, clientId: 'after-end', timeoutMs: 10_000 })).toEqual({
      kind: 'connack',
      code: 0,
    });
    expect(await target.lag()).toEqual(before);

    target.setOrigin(process.hrtime.bigint(), 60_000_000);
    await target.lag();
    expect(await rawConnect(target.port, { version: 4, clientId: 'inside', timeoutMs: 10_000 })).toEqual({
      kind: 'connack',
      code: 0,
    });
    const inside = await target.lag();
    expect(inside?.maxMs).toBeGreaterThanOrEqual(AT_LEAST_LATE_MS);
    expect(inside?.overBoundTotal).toBeGreaterThan(before?.overBoundTotal ?? 0);
  });
});
