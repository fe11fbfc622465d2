/**
 * Per-device state of one worker, in flat typed arrays indexed by slot (the device's position in
 * the worker's slice), plus what each device's cohort says about connecting and reconnecting.
 */
import type { NameCache } from '../protocols/names.js';
import { mergeNameTallies, type NameTally } from '../results/names.js';
import type { Device, DeviceOpenOptions, DeviceOwner, ExpandTemplate } from '../protocols/device.js';
import type { PreparedTarget } from '../protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../protocols/kinds.js';
import type { TlsSettings } from '../protocols/transports/tls-options.js';
import { createRng, deriveSeed } from '../util/rng.js';
import { reconnectDelayUs } from './reconnect.js';
import type { PreparedKinds, RunnerOptions } from './runner-options.js';

export const NO_OUTAGE = 0xffff;

export class DeviceTable {
  readonly intendedUs: Float64Array;
  readonly offlineUntilUs: Float64Array;
  readonly prevDelayUs: Float64Array;
  /** Retries scheduled since the device was last connected: the policy's attempt number (0 = first retry). */
  readonly retries: Uint32Array;
  /** Real attempts since the last drop, for recovery statistics. */
  readonly attemptsSinceDrop: Uint32Array;
  /** The outage a device is recovering from, or NO_OUTAGE. */
  readonly outageOf: Uint16Array;
  readonly targetIndex: Uint16Array;
  /** Session generation: bumped on every connect, so keepalive turns of older sessions are dropped. */
  readonly session: Uint32Array;
  /** 1 = a reconnect is scheduled. */
  readonly pending: Uint8Array;
  readonly outageMembers: number[][];
  private readonly slotOf: Map<number, number>;
  private readonly o: RunnerOptions;
  /** Per cohort: its failover list, or null to use the run's targets. Validated and TLS files read once. */
  private readonly cohortTargets: (PreparedTarget[] | null)[];
  /** Per cohort: the run's targets prepared with the cohort's TLS settings. */
  private readonly runTargets: PreparedTarget[][];
  /** Per slot, the answers of the host-name target its last attempt opened to (none for IP targets). */
  private readonly namesOf: (NameCache | undefined)[] = [];
  private readonly kinds: PreparedKinds;

  constructor(o: RunnerOptions, expand: ExpandTemplate) {
    const n = o.ids.length;
    this.o = o;
    this.intendedUs = new Float64Array(n);
    this.offlineUntilUs = new Float64Array(n);
    this.prevDelayUs = new Float64Array(n);
    this.retries = new Uint32Array(n);
    this.attemptsSinceDrop = new Uint32Array(n);
    this.outageOf = new Uint16Array(n).fill(NO_OUTAGE);
    this.targetIndex = new Uint16Array(n);
    this.session = new Uint32Array(n);
    this.pending = new Uint8Array(n);
    // This worker's share of each outage and of the churn, by slot. The id → slot map is built only
    // for runs that have outages or churn: ~30 bytes per device otherwise held for nothing.
    this.slotOf = o.plan.outages.length > 0 || o.plan.churnIds.length > 0 ? slotsById(o.ids) : new Map();
    this.outageMembers = o.plan.outages.map((out) =>
      [...out.members].map((id) => this.slotOf.get(id)).filter((s): s is number => s !== undefined),
    );
    const rows = o.kinds ?? DEVICE_KIND_ROWS;
    this.kinds = o.preparedKinds ?? prepareKinds(o, expand);
    const prep = (url: string, c: (typeof o.scenario.cohorts)[number]): PreparedTarget =>
      prepareTarget(
        c.device.protocol,
        url,
        (c.device.tls ?? undefined) as TlsSettings | undefined,
        'target',
        rows,
        c.device.dnsTtlUs,
      );
    this.cohortTargets = o.scenario.cohorts.map((c) => c.targets?.map((t) => prep(t, c)) ?? null);
    this.runTargets = o.scenario.cohorts.map((c, i) => (o.targets[i] ?? []).map((t) => prep(t, c)));
  }

  id(slot: number): number {
    return this.o.ids[slot] as number;
  }

  cohort(slot: number): number {
    return this.o.plan.cohortOf[this.id(slot)] as number;
  }

  private cohortDef(slot: number) {
    const c = this.o.scenario.cohorts[this.cohort(slot)];
    if (!c) throw new Error(`internal: no cohort for slot ${slot}`);
    return c;
  }

  connectTimeoutUs(slot: number): number {
    return this.cohortDef(slot).device.connectTimeoutUs;
  }

  /** This worker's churn events: slot and time, in time order. */
  churnSchedule(): { slot: Uint32Array; atUs: Float64Array } {
    const slots: number[] = [];
    const at: number[] = [];
    this.o.plan.churnIds.forEach((id, k) => {
      const slot = this.slotOf.get(id);
      if (slot === undefined) return;
      slots.push(slot);
      at.push(this.o.plan.churnAtUs[k] as number);
    });
    return { slot: Uint32Array.from(slots), atUs: Float64Array.from(at) };
  }

  /** Each host name's lookups and the attempts each of its addresses got, over every target by that name. */
  nameTallies(): NameTally[] {
    return this.allTargets().reduce<NameTally[]>(
      (all, t) => (t.names === null ? all : mergeNameTallies(all, [t.names.tally(t.endpoint.host)])),
      [],
    );
  }

  /** Whether any target is given by host name (then attempts' outcomes are counted by address). */
  get hasNames(): boolean {
    return this.allTargets().some((t) => t.names !== null);
  }

  /** Slot `slot`'s attempt ended: counted against the address its target's answers gave it, if any. */
  nameSettled(slot: number, connected: boolean): void {
    this.namesOf[slot]?.settled(slot, connected);
  }

  private allTargets(): PreparedTarget[] {
    return [...this.cohortTargets.flatMap((t) => t ?? []), ...this.runTargets.flat()];
  }

  /** The run's prepared targets as cohort `cohort` reaches them. */
  targetsOf(cohort: number): readonly PreparedTarget[] {
    return this.runTargets[cohort] ?? [];
  }

  /** Opens one attempt for the device in `slot`: its cohort's kind opens it over its transport. */
  open(slot: number, owner: DeviceOwner): Device {
    const id = this.id(slot);
    const cohort = this.cohort(slot);
    const kind = this.kinds[cohort];
    if (kind === undefined) throw new Error(`internal: no device kind for slot ${slot}`);
    const own = this.cohortTargets[cohort];
    const run = this.runTargets[cohort] as PreparedTarget[];
    const moved = this.targetIndex[slot] as number; // issue 16: + a Server Reference move
    const target = (own ? own[moved % own.length] : run[(id + moved) % run.length]) as PreparedTarget;
    if (target.names !== null) this.namesOf[slot] = target.names;
    const ips = this.o.sourceIps;
    const opts: DeviceOpenOptions = {
      deviceId: slot,
      localAddress: ips.length === 0 ? undefined : ips[sourceIndex(id, this.o.shardCount ?? 1, run.length, ips.length)],
      connectTimeoutMs: Math.max(1, Math.round(this.cohortDef(slot).device.connectTimeoutUs / 1000)),
      maxPacketBytes: this.o.maxPacketBytes,
      slotCount: this.o.ids.length,
    };
    return kind.row.open(target, Object.assign(opts, kind.own(id, slot)), owner);
  }

  /** The next reconnect delay by the cohort's policy, or null when the device gives up. */
  reconnectDelayUs(slot: number): number | null {
    const attempt = this.retries[slot] as number;
    // One seeded draw per (device, attempt): reproducible from the run seed, independent of timing.
    const random = createRng(
      deriveSeed(this.o.scenario.seed, 4, this.id(slot), attempt, this.attemptsSinceDrop[slot] as number),
    );
    const delay = reconnectDelayUs(this.cohortDef(slot).reconnect, attempt, this.prevDelayUs[slot] as number, random);
    if (delay !== null) {
      this.prevDelayUs[slot] = delay;
      this.retries[slot] = attempt + 1;
    }
    return delay;
  }

  /** After a failed attempt a device with a failover list moves to its next target. */
  failover(slot: number): void {
    const own = this.cohortTargets[this.cohort(slot)];
    if (own && own.length > 1) this.targetIndex[slot] = ((this.targetIndex[slot] as number) + 1) % own.length;
  }
}

/** The kinds' preparation of each cohort, once per worker. */
export function prepareKinds(
  o: Pick<RunnerOptions, 'scenario' | 'runId' | 'workerIndex' | 'kinds'>,
  expand: ExpandTemplate,
): PreparedKinds {
  const rows = o.kinds ?? DEVICE_KIND_ROWS;
  return o.scenario.cohorts.map((c) => {
    const row = rows[c.device.protocol];
    if (row === undefined) throw new Error(`internal: no device kind "${c.device.protocol}" in the table of kinds`);
    const fixed = { run: o.runId, worker: o.workerIndex, cohort: c.name };
    return { row, own: row.prepare({ device: c.device, fixed, expand }) };
  });
}

/**
 * Every device's own open options asked for once, before the run: what a kind keeps by slot (each
 * CONNECT) is then built, and the storm only takes it, as a C load client builds its packets before
 * it starts the clock.
 */
export function prebuildOwn(kinds: PreparedKinds, ids: Uint32Array, cohortOf: ArrayLike<number>): void {
  for (let slot = 0; slot < ids.length; slot++) {
    const id = ids[slot] as number;
    kinds[cohortOf[id] as number]?.own(id, slot);
  }
}

function slotsById(ids: Uint32Array): Map<number, number> {
  const m = new Map<number, number>();
  ids.forEach((id, slot) => m.set(id, slot));
  return m;
}

/**
 * Which of a shard's `ipCount` source addresses device `id` connects from. Counted by the device's
 * rank within its shard (shard i/N holds ids i−1, i−1+N, …), not by its id: every shard runs on a
 * machine of its own with addresses of its own, and by id a shard whose N shares a factor with
 * ipCount would use only some of them (shard 1/2 over 2 addresses: only the first). Blocks of
 * `targetCount` ranks share an address, so every (source, target) pair gets an equal share.
 */
export function sourceIndex(id: number, shardCount: number, targetCount: number, ipCount: number): number {
  const rank = Math.floor(id / shardCount);
  return Math.floor(rank / targetCount) % ipCount;
}
