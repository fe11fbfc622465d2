/**
 * The rules of a target's shared host-name answers (src/protocols/names.ts) on a fake clock with
 * exact µs: one lookup in flight serves every attempt that asks meanwhile, an answer is kept for
 * exactly the TTL from its arrival, a failure is never kept, TTL 0 keeps nothing, and devices
 * spread over the answer's addresses. The resolver in the rule tests is a table whose answers the
 * test releases (the order of events is the test's); the last test uses the system resolver.
 */
import { lookup as lookupOne } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { familyOf, NameCache, systemLookup, type AddressLookup, type Family } from '../../src/protocols/names.js';
import { hostNamesOf } from '../../src/util/target-url.js';
import { mergeNameTallies } from '../../src/results/names.js';

/** A resolver answering from `table`, each answer held until release(). */
function heldResolver(table: Record<string, readonly string[]>) {
  const held: (() => void)[] = [];
  const asked: { host: string; family: Family }[] = [];
  const lookup: AddressLookup = (host, family, done) => {
    asked.push({ host, family });
    const list = table[host];
    held.push(() =>
      list === undefined
        ? done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), [])
        : done(null, list),
    );
  };
  const release = (): void => {
    for (const f of held.splice(0)) f();
  };
  return { lookup, asked, release };
}

const local = await lookupOne('localhost', { family: 4 }).catch(() => null);
const THREE = { 'cloud.test': ['127.0.0.1', '127.0.0.2', '127.0.0.3'] };

function collect() {
  const got: [number, string | null, string][] = [];
  const answer = (index: number) => (err: NodeJS.ErrnoException | null, address: string) =>
    got.push([index, err === null ? null : (err.code ?? '?'), address]);
  return { got, answer };
}

describe('a target’s shared host-name answers', () => {
  it('attempts that ask while a lookup is in flight join it: one lookup, each its own address', () => {
    const r = heldResolver(THREE);
    const names = new NameCache(60_000_000, () => 0, r.lookup);
    const { got, answer } = collect();
    for (const i of [0, 1, 5]) names.ask('cloud.test', 4, i, answer(i));
    expect(r.asked).toEqual([{ host: 'cloud.test', family: 4 }]);
    expect(names.lookups).toBe(1);
    expect(got).toEqual([]);
    r.release();
    expect(got).toEqual([
      [0, null, '127.0.0.1'],
      [1, null, '127.0.0.2'],
      [5, null, '127.0.0.3'],
    ]);
  });

  it('an answer serves for exactly the TTL from its arrival, then the next attempt looks it up again', () => {
    const r = heldResolver(THREE);
    let now = 1_000;
    const names = new NameCache(60_000_000, () => now, r.lookup);
    const { got, answer } = collect();
    expect(names.cached('cloud.test', 4, 0)).toBeNull();
    names.ask('cloud.test', 4, 0, answer(0));
    now = 1_250; // the answer arrives 250 µs later: the TTL counts from here
    r.release();
    now = 1_250 + 60_000_000 - 1;
    expect(names.cached('cloud.test', 4, 4)).toBe('127.0.0.2');
    now = 1_250 + 60_000_000;
    expect(names.cached('cloud.test', 4, 4)).toBeNull();
    names.ask('cloud.test', 4, 4, answer(4));
    expect(names.lookups).toBe(2);
    r.release();
    expect(got).toEqual([
      [0, null, '127.0.0.1'],
      [4, null, '127.0.0.2'],
    ]);
    expect(names.cached('cloud.test', 4, 2)).toBe('127.0.0.3');
  });

  it('a failed lookup reaches every attempt that waited and is not kept', () => {
    const r = heldResolver({});
    const names = new NameCache(60_000_000, () => 0, r.lookup);
    const { got, answer } = collect();
    names.ask('gone.test', 0, 0, answer(0));
    names.ask('gone.test', 0, 1, answer(1));
    r.release();
    expect(got).toEqual([
      [0, 'ENOTFOUND', ''],
      [1, 'ENOTFOUND', ''],
    ]);
    expect(names.cached('gone.test', 0, 0)).toBeNull();
    names.ask('gone.test', 0, 2, answer(2));
    expect(names.lookups).toBe(2);
  });

  it('an empty answer is a failure, not an address', () => {
    const r = heldResolver({ 'empty.test': [] });
    const names = new NameCache(60_000_000, () => 0, r.lookup);
    const { got, answer } = collect();
    names.ask('empty.test', 4, 0, answer(0));
    r.release();
    expect(got).toEqual([[0, 'ENOTFOUND', '']]);
    expect(names.cached('empty.test', 4, 0)).toBeNull();
  });

  it('TTL 0 keeps nothing: every attempt looks the name up on its own', () => {
    const r = heldResolver(THREE);
    const names = new NameCache(0, () => 0, r.lookup);
    const { got, answer } = collect();
    names.ask('cloud.test', 4, 0, answer(0));
    names.ask('cloud.test', 4, 1, answer(1));
    expect(names.lookups).toBe(2);
    r.release();
    expect(got).toEqual([
      [0, null, '127.0.0.1'],
      [1, null, '127.0.0.2'],
    ]);
    expect(names.cached('cloud.test', 4, 0)).toBeNull();
  });

  it('each address family has its own answer (a source address decides which one a socket can use)', () => {
    const r = heldResolver(THREE);
    const names = new NameCache(60_000_000, () => 0, r.lookup);
    const { answer } = collect();
    names.ask('cloud.test', 4, 0, answer(0));
    r.release();
    expect(names.cached('cloud.test', 4, 0)).toBe('127.0.0.1');
    expect(names.cached('cloud.test', 6, 0)).toBeNull();
    expect(names.cached('cloud.test', 0, 0)).toBeNull();
    names.ask('cloud.test', 6, 0, answer(0));
    expect(r.asked.map((a) => a.family)).toEqual([4, 6]);
    expect([familyOf(undefined), familyOf('127.0.0.5'), familyOf('::1')]).toEqual([0, 4, 6]);
  });

  it.skipIf(local?.address !== '127.0.0.1')(
    'with the system resolver: three attempts at once make one lookup of localhost',
    async () => {
      const names = new NameCache(60_000_000, undefined, systemLookup);
      const answers = await Promise.all(
        [0, 1, 2].map(
          (i) =>
            new Promise<string>((resolve, reject) =>
              names.ask('localhost', 4, i, (err, address) => (err === null ? resolve(address) : reject(err))),
            ),
        ),
      );
      expect(answers).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
      expect(names.lookups).toBe(1);
      expect(names.cached('localhost', 4, 7)).toBe('127.0.0.1');
    },
  );
});

describe('what a target’s answers came to (run.names)', () => {
  it('counts lookups, each failed lookup once, and per address the attempts given it and how they ended', () => {
    const r = heldResolver(THREE);
    let now = 0;
    const names = new NameCache(1_000, () => now, r.lookup);
    const { answer } = collect();
    for (const i of [0, 1, 2, 3]) names.ask('cloud.test', 4, i, answer(i));
    r.release();
    expect(names.cached('cloud.test', 4, 4)).toBe('127.0.0.2');
    now = 5_000;
    names.ask('cloud.test', 4, 5, answer(5));
    r.release();
    // Attempts 0 and 4 connected, 1 failed; 2, 3 and 5 have not ended; 9 never had an address.
    names.settled(0, true);
    names.settled(4, true);
    names.settled(1, false);
    names.settled(9, false);
    // An outcome counts once: a second report of the same attempt changes nothing.
    names.settled(0, false);
    expect(names.tally('cloud.test')).toEqual({
      host: 'cloud.test',
      lookups: 2,
      failedLookups: 0,
      addresses: {
        '127.0.0.1': { attempts: 2, succeeded: 1, failed: 0 },
        '127.0.0.2': { attempts: 2, succeeded: 1, failed: 1 },
        '127.0.0.3': { attempts: 2, succeeded: 0, failed: 0 },
      },
    });
    const g = heldResolver({});
    const gone = new NameCache(1_000, () => 0, g.lookup);
    gone.ask('gone.test', 4, 0, answer(0));
    gone.ask('gone.test', 4, 1, answer(1));
    g.release();
    gone.settled(0, false);
    expect(gone.tally('gone.test')).toEqual({ host: 'gone.test', lookups: 1, failedLookups: 1, addresses: {} });
    const g0 = heldResolver({});
    const each = new NameCache(0, () => 0, g0.lookup);
    each.ask('gone.test', 0, 0, answer(0));
    each.ask('gone.test', 0, 1, answer(1));
    g0.release();
    expect(each.tally('gone.test')).toEqual({ host: 'gone.test', lookups: 2, failedLookups: 2, addresses: {} });
  });

  it('merge by summing, per host and per address, in order of first appearance', () => {
    const t = (attempts: number, succeeded: number, failed: number) => ({ attempts, succeeded, failed });
    const a = { host: 'a.test', lookups: 1, failedLookups: 0, addresses: { '127.0.0.1': t(3, 2, 1) } };
    const b = { host: 'b.test', lookups: 2, failedLookups: 1, addresses: { '127.0.0.2': t(1, 1, 0) } };
    const a2 = {
      host: 'a.test',
      lookups: 1,
      failedLookups: 1,
      addresses: { '127.0.0.1': t(2, 0, 2), '127.0.0.9': t(4, 4, 0) },
    };
    expect(mergeNameTallies([a, b], [a2])).toEqual([
      { host: 'a.test', lookups: 2, failedLookups: 1, addresses: { '127.0.0.1': t(5, 2, 3), '127.0.0.9': t(4, 4, 0) } },
      b,
    ]);
    expect(a.addresses).toEqual({ '127.0.0.1': t(3, 2, 1) });
    expect(mergeNameTallies([], [])).toEqual([]);
  });
});

describe('the names a worker looks up before the origin', () => {
  it('are the distinct host names of its targets, never an IP', () => {
    expect(
      hostNamesOf([
        'mqtt://localhost:1883',
        'mqtts://127.0.0.1:8883',
        'ws://[::1]:8080/mqtt',
        'wss://cloud.invalid/mqtt',
        'mqtt://localhost:1884',
      ]),
    ).toEqual(['localhost', 'cloud.invalid']);
  });
});
