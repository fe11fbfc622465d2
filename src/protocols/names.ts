/**
 * Host-name answers for one target, shared by its attempts (`device.dnsTtl`). A lookup is
 * getaddrinfo on libuv's small thread pool: asked once per attempt in a storm, thousands queue on
 * this machine, and the `dns` phase then times herd's own queue, not a resolver (a 5,000-device
 * storm to `localhost` here: phase.dns p50 3 ms, the rate a third of the same storm to the IP).
 * So an answer is kept for `ttlUs` from its arrival: attempts meanwhile use it at once (no `dns`
 * phase, as with an IP target), attempts that find none join the lookup in flight, and only a stale
 * or missing answer starts a new one. A failed lookup is not kept: the next attempt asks again.
 * `ttlUs` 0 keeps nothing: every attempt looks the name up on its own, as it did before.
 *
 * Devices spread over every address of the answer (of the first address's family), `index` modulo
 * their count, as a fleet behind a name with several records spreads over them; one lookup per
 * attempt picking the first address would put every device on one.
 */
import * as dns from 'node:dns';
import { performance } from 'node:perf_hooks';
import type { AddressTally, NameTally } from '../results/names.js';

/** 0: any family; 4 or 6: that of the source address the socket binds. */
export type Family = 0 | 4 | 6;
type Err = NodeJS.ErrnoException | null;
export type Answer = (err: Err, address: string) => void;
/** Every address of one name, in the resolver's order. */
export type AddressLookup = (
  host: string,
  family: Family,
  done: (err: NodeJS.ErrnoException | null, addresses: readonly string[]) => void,
) => void;

/** The system resolver through Node (getaddrinfo): the addresses of the first answer's family. */
export const systemLookup: AddressLookup = (host, family, done) => {
  dns.lookup(host, { family, all: true }, (err, list) => {
    // An empty answer is NameCache's to call a failure.
    const first = err === null ? list[0] : undefined;
    done(err, first === undefined ? [] : list.filter((a) => a.family === first.family).map((a) => a.address));
  });
};

interface Entry {
  addresses: readonly string[] | null;
  /** When the kept answer arrived (µs on the cache's clock). */
  atUs: number;
  /** Attempts waiting for the lookup in flight (null: none in flight). */
  waiting: { index: number; answer: Answer }[] | null;
}

const FAMILY_SLOT: Record<Family, number> = { 0: 0, 4: 1, 6: 2 };

export class NameCache {
  /** Lookups started (what this machine's resolver was asked), and of which failed. */
  lookups = 0;
  failedLookups = 0;
  /** Per address: attempts given it, and how they ended. */
  private readonly given = new Map<string, AddressTally>();
  /** The address the attempt at index `i` was given, until its outcome is counted. */
  private readonly pending: (AddressTally | undefined)[] = [];
  private readonly entries = new Map<string, (Entry | undefined)[]>();

  constructor(
    readonly ttlUs: number,
    private readonly nowUs: () => number = () => performance.now() * 1000,
    private readonly lookup: AddressLookup = systemLookup,
  ) {}

  /** The kept answer for attempt `index` while it is fresh; null when the attempt must ask(). */
  cached(host: string, family: Family, index: number): string | null {
    if (this.ttlUs <= 0) return null;
    const e = this.entries.get(host)?.[FAMILY_SLOT[family]];
    if (e === undefined || e.addresses === null || this.nowUs() - e.atUs >= this.ttlUs) return null;
    return this.give(pick(e.addresses, index), index);
  }

  /** What this target's lookups and attempts came to, for `run.names`. */
  tally(host: string): NameTally {
    const addresses = Object.fromEntries([...this.given].map(([a, t]) => [a, { ...t }]));
    return { host, lookups: this.lookups, failedLookups: this.failedLookups, addresses };
  }

  /** The attempt at `index` that this cache gave an address ended (connected or not); else nothing. */
  settled(index: number, connected: boolean): void {
    const t = this.pending[index];
    if (t === undefined) return;
    this.pending[index] = undefined;
    if (connected) t.succeeded++;
    else t.failed++;
  }

  /** Looks the name up for attempt `index` (joining the lookup in flight); `answer` is called once. */
  ask(host: string, family: Family, index: number, answer: Answer): void {
    if (this.ttlUs <= 0) {
      this.lookups++;
      this.lookup(host, family, (err, addresses) => this.settle(answer, err, addresses, index));
      return;
    }
    const e = this.entry(host, family);
    if (e.waiting !== null) {
      e.waiting.push({ index, answer });
      return;
    }
    e.waiting = [{ index, answer }];
    this.lookups++;
    this.lookup(host, family, (err, addresses) => {
      const waiting = e.waiting ?? [];
      e.waiting = null;
      if (err === null && addresses.length > 0) {
        e.addresses = addresses;
        e.atUs = this.nowUs();
      } else this.failedLookups++;
      for (const w of waiting) this.settle(w.answer, err, addresses, w.index, false);
    });
  }

  /** Answers one attempt from a lookup's outcome (`count`: a failure of its own lookup). */
  private settle(answer: Answer, err: Err, addresses: readonly string[], index: number, count = true): void {
    if (err === null && addresses.length > 0) {
      answer(null, this.give(pick(addresses, index), index));
      return;
    }
    if (count) this.failedLookups++;
    answer(err ?? Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '');
  }

  private give(address: string, index: number): string {
    let t = this.given.get(address);
    if (t === undefined) this.given.set(address, (t = { attempts: 0, succeeded: 0, failed: 0 }));
    t.attempts++;
    this.pending[index] = t;
    return address;
  }

  private entry(host: string, family: Family): Entry {
    let byFamily = this.entries.get(host);
    if (byFamily === undefined) this.entries.set(host, (byFamily = []));
    const k = FAMILY_SLOT[family];
    return (byFamily[k] ??= { addresses: null, atUs: 0, waiting: null });
  }
}

/** For attempts given no target's answers: each looks its name up alone (device.dnsTtl 0). */
export const EACH_ATTEMPT = new NameCache(0);

function pick(addresses: readonly string[], index: number): string {
  return addresses[index % addresses.length] as string;
}

/** The family a socket bound to `localAddress` can reach (0: not bound, any). */
export function familyOf(localAddress: string | undefined): Family {
  if (localAddress === undefined) return 0;
  return localAddress.includes(':') ? 6 : 4;
}
