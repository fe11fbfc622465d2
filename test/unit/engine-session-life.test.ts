/**
 * A listener registered with the engine (after its own, as engine-parts.ts registers every part)
 * hears a session's whole life in order, each hook at the fake clock's exact µs: attempts, connects,
 * a failed attempt, a session an outage ended, one it ended before later listeners heard it was
 * held, a lost session, the ticks, teardown and the run's end.
 */
import { describe, expect, it } from 'vitest';
import type { Failure } from '../../src/protocols/classify.js';
import type { SessionListener } from '../../src/engine/session-life.js';
import { startEngine, type FakeTarget } from '../helpers/engine.js';

const RESET: Failure = { origin: 'network', phase: 'held', code: 'ECONNRESET' };

/** Every hook as [hook, slot, µs, detail]; null where a hook has none. */
type Heard = [string, number | null, number | null, string | null];

function recording(heard: Heard[], now: () => number | null): SessionListener {
  return {
    start: () => heard.push(['start', null, null, null]),
    attemptStarted: (slot, c) => heard.push(['attemptStarted', slot, c.socketOpenUs, null]),
    connected: (slot, _c, nowUs) => heard.push(['connected', slot, nowUs, null]),
    held: (slot, _c, nowUs) => {
      heard.push(['held', slot, nowUs, null]);
      return false;
    },
    failed: (slot, _c, f, nowUs) => heard.push(['failed', slot, nowUs, f.code]),
    lost: (slot, _c, f, nowUs, herdsOutage) => heard.push(['lost', slot, nowUs, `${f.code} herd=${herdsOutage}`]),
    closed: (slot, _c, nowUs) => heard.push(['closed', slot, nowUs, null]),
    tick: (nowUs) => heard.push(['tick', null, nowUs, null]),
    teardown: (nowUs) => heard.push(['teardown', null, nowUs, null]),
    finish: (kept) => heard.push(['finish', null, now(), JSON.stringify(kept)]),
  };
}

describe('engine: session listeners', () => {
  it('a registered listener hears every hook of a session’s life, in order, at the exact µs', async () => {
    // Slot 0 connects in 10 ms. Slot 1's first attempt is never answered (timed out at 1 s); its
    // second, at 1.5 s, takes 600 ms, so it is still in flight when the outage takes the network.
    const target: FakeTarget = {
      handshakeUs: (slot, attempt) =>
        slot === 1 && attempt === 0 ? null : slot === 1 && attempt === 1 ? 600_000 : 10_000,
      pingAnswerUs: () => 5_000,
      closeUs: 1_000,
    };
    const heard: Heard[] = [];
    let now = (): number | null => null;
    const e = startEngine(
      {
        devices: 2,
        device: { keepalive: '30s', connectTimeout: '1s' },
        reconnect: { policy: 'fixed', delay: '500ms', jitter: 'none' },
        waves: [{ type: 'spike' }, { type: 'outage', at: '2s', offline: '1s', mode: 'reset' }],
        duration: '5s',
      },
      target,
      { listeners: [recording(heard, () => now())] },
    );
    now = () => e.clock.nowUs();
    e.to(4e6);
    e.opened[0]?.at(-1)?.lose(RESET);
    e.to(10e6);
    const end = await e.end;
    expect(e.clock.pending).toBe(0);
    expect(end.inFlightAtEnd).toBe(0);
    expect(heard).toEqual([
      ['start', null, null, null],
      ['attemptStarted', 0, 0, null],
      ['attemptStarted', 1, 0, null],
      ['connected', 0, 10_000, null],
      ['held', 0, 10_000, null],
      // The tick's timer was set before slot 1's connect timeout: at 1 s the tick comes first.
      ['tick', null, 1e6, null],
      ['failed', 1, 1e6, 'CONNECT_TIMEOUT'],
      ['attemptStarted', 1, 1_500_000, null],
      ['tick', null, 2e6, null],
      // The outage resets slot 0 (closed on the next turn); slot 1 connects at 2.1 s into no network:
      // the outage ends it at once, so a listener after the engine's own never hears it was held.
      ['closed', 0, 2e6, null],
      ['connected', 1, 2_100_000, null],
      ['closed', 1, 2_100_000, null],
      // Retries at 2.5 s and 2.6 s find no network (no socket: no hook); 3.0 s and 3.1 s open.
      ['tick', null, 3e6, null],
      ['attemptStarted', 0, 3e6, null],
      ['connected', 0, 3_010_000, null],
      ['held', 0, 3_010_000, null],
      ['attemptStarted', 1, 3_100_000, null],
      ['connected', 1, 3_110_000, null],
      ['held', 1, 3_110_000, null],
      ['tick', null, 4e6, null],
      ['lost', 0, 4e6, 'ECONNRESET herd=false'],
      ['attemptStarted', 0, 4_500_000, null],
      ['connected', 0, 4_510_000, null],
      ['held', 0, 4_510_000, null],
      // The tick at 5 s starts teardown (no tick hook then); both sessions end cleanly 1 ms later.
      ['teardown', null, 5e6, null],
      ['closed', 0, 5_001_000, null],
      ['closed', 1, 5_001_000, null],
      ['finish', null, 5_001_000, '{"delivery":{},"names":[]}'],
    ]);
  });

  it('a session herd made dark is lost as herd’s outage, judged right after the keepalive tick that found it', async () => {
    const heard: Heard[] = [];
    let now = (): number | null => null;
    const e = startEngine(
      {
        devices: 1,
        device: { keepalive: '2s' },
        reconnect: { policy: 'fixed', delay: '500ms', jitter: 'none' },
        waves: [{ type: 'spike' }, { type: 'outage', at: '5s', offline: '2s', mode: 'silent' }],
        duration: '9s',
      },
      undefined,
      { listeners: [recording(heard, () => now())] },
    );
    now = () => e.clock.nowUs();
    e.to(20e6);
    await e.end;
    expect(e.clock.pending).toBe(0);
    // Pings at 2 and 4 s answered; dark from 5 s; the one at 6 s goes unanswered: dead at 8 s. The
    // tick finds it; the judgement comes once the loop has read the sockets, after every listener's tick.
    expect(heard).toEqual([
      ['start', null, null, null],
      ['attemptStarted', 0, 0, null],
      ['connected', 0, 10_000, null],
      ['held', 0, 10_000, null],
      ...[1, 2, 3, 4, 5, 6, 7].map((s): Heard => ['tick', null, s * 1e6, null]),
      ['tick', null, 8e6, null],
      ['lost', 0, 8e6, 'KEEPALIVE_TIMEOUT herd=true'],
      ['attemptStarted', 0, 8_500_000, null],
      ['connected', 0, 8_510_000, null],
      ['held', 0, 8_510_000, null],
      ['teardown', null, 9e6, null],
      ['closed', 0, 9_001_000, null],
      ['finish', null, 9_001_000, '{"delivery":{},"names":[]}'],
    ]);
  });
});
