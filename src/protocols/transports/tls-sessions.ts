/**
 * Cached TLS sessions per device and the decision which reconnects offer one. `resume: 0.8` means
 * exactly 8 of every 10 reconnects that could resume offer their session (an error-diffusion
 * counter, not a coin: the share is exact in every run and needs no RNG). Memory is capped.
 */
export class TlsSessionStore {
  private readonly sessions = new Map<number, Buffer>();
  private readonly share: number;
  /** Cap on sessions kept (oldest evicted). */
  readonly maxEntries: number;
  private eligible = 0;
  private offered = 0;
  /** Handshakes that completed, by kind (tlsSocket.isSessionReused()). */
  fullHandshakes = 0;
  resumedHandshakes = 0;
  /** Resumed handshakes that skipped the key exchange (TLS 1.2 abbreviated, TLS 1.3 psk_ke). */
  resumedWithoutKeyExchange = 0;

  constructor(share: number, maxEntries: number) {
    this.share = share;
    this.maxEntries = maxEntries;
  }

  /** The session device `key` should offer on this attempt, or undefined for a full handshake. */
  take(key: number): Buffer | undefined {
    const s = this.sessions.get(key);
    return s !== undefined && this.offers(true) ? s : undefined;
  }

  /**
   * The share rule alone, for a reconnect that has (`has`) or has not a session to offer: whether it
   * offers it. The native core keeps its sessions in C and asks this for each attempt.
   */
  offers(has: boolean): boolean {
    if (!has || this.share <= 0) return false;
    this.eligible++;
    if (Math.floor(this.eligible * this.share) <= this.offered) return false;
    this.offered++;
    return true;
  }

  /**
   * Whether sessions are kept at all. Without, the adapters do not listen for 'session': Node then
   * leaves OpenSSL's new-session callback off instead of serialising every ticket into a Buffer.
   */
  get savesSessions(): boolean {
    return this.maxEntries > 0 && this.share > 0;
  }

  save(key: number, session: Buffer): void {
    if (!this.savesSessions) return;
    // Re-insert so the Map's order stays "oldest first" for eviction.
    this.sessions.delete(key);
    if (this.sessions.size >= this.maxEntries) {
      const oldest = this.sessions.keys().next();
      if (oldest.done !== true) this.sessions.delete(oldest.value);
    }
    this.sessions.set(key, session);
  }

  countHandshake(resumed: boolean, keyExchange: boolean): void {
    if (!resumed) this.fullHandshakes++;
    else {
      this.resumedHandshakes++;
      if (!keyExchange) this.resumedWithoutKeyExchange++;
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  get offeredCount(): number {
    return this.offered;
  }
}
