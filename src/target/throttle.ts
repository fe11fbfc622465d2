/**
 * The CONNECT-time limits of a cloud (issue 16, the aws-like profile): an account-wide CONNECT
 * rate and a per-client-id CONNECT rate, plus the registry that notices a second connection with
 * a client id that is already connected (AWS: DUPLICATE_CLIENTID, the first one is disconnected).
 * Pure except for the clock passed in.
 */
import { TokenBucket } from './admission.js';
import type { ThrottleOptions } from './options.js';

export type ConnectRefusal = 'connect_rate' | 'client_connect_rate';

/** Per-client-id memory is bounded: past this many ids, ids idle for a whole interval are forgotten. */
const MAX_TRACKED_IDS = 200_000;

export class ConnectThrottle {
  private readonly account: TokenBucket | null;
  private readonly lastConnectMs = new Map<string, number>();
  private readonly clientIntervalMs: number | null;

  constructor(o: ThrottleOptions | null, processes: number, nowMs: number) {
    const perProcess = o?.connectsPerS == null ? null : o.connectsPerS / processes;
    // A one-second bucket: a burst of one second's allowance, like a per-second quota.
    this.account = perProcess === null ? null : new TokenBucket(perProcess, Math.max(1, perProcess), nowMs);
    this.clientIntervalMs = o?.clientConnectsPerS == null ? null : 1000 / o.clientConnectsPerS;
  }

  /** null = the CONNECT may go on to admission; else why it is refused. */
  check(clientId: string, nowMs: number): ConnectRefusal | null {
    if (this.clientIntervalMs !== null && clientId !== '') {
      const last = this.lastConnectMs.get(clientId);
      if (last !== undefined && nowMs - last < this.clientIntervalMs) return 'client_connect_rate';
      this.remember(clientId, nowMs);
    }
    if (this.account !== null && !this.account.tryTake(nowMs)) return 'connect_rate';
    return null;
  }

  private remember(clientId: string, nowMs: number): void {
    this.lastConnectMs.delete(clientId);
    this.lastConnectMs.set(clientId, nowMs);
    if (this.lastConnectMs.size <= MAX_TRACKED_IDS) return;
    const interval = this.clientIntervalMs ?? 0;
    // Insertion order is connect order: the oldest entries come first.
    for (const [id, at] of this.lastConnectMs) {
      if (nowMs - at < interval || this.lastConnectMs.size <= MAX_TRACKED_IDS) break;
      this.lastConnectMs.delete(id);
    }
  }
}

export interface Session {
  /**
   * The server ends this session because another connection took its client id; `then` runs once
   * aedes has let go of it (so aedes never sees the two overlap: its takeover races otherwise).
   */
  takenOver(then: () => void): void;
}

/** Who holds each client id right now, so a takeover is counted and the old session told. */
export class ClientRegistry {
  private readonly byId = new Map<string, Session>();

  /** Registers `s` for `clientId`; returns the session it replaces, if any. */
  claim(clientId: string, s: Session): Session | null {
    if (clientId === '') return null;
    const old = this.byId.get(clientId) ?? null;
    this.byId.set(clientId, s);
    return old;
  }

  release(clientId: string, s: Session): void {
    if (this.byId.get(clientId) === s) this.byId.delete(clientId);
  }

  get size(): number {
    return this.byId.size;
  }
}
