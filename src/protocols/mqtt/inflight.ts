/**
 * Packet-id bookkeeping for one MQTT session, hard-capped: outbound QoS 1/2 publishes and
 * subscribes awaiting their acknowledgement, and inbound QoS 2 publishes awaiting PUBREL. Created
 * only when a session first publishes, subscribes or receives, so a held idle device pays nothing.
 */
export const AWAIT = { PUBACK: 1, PUBREC: 2, PUBCOMP: 3, SUBACK: 4, UNSUBACK: 5 } as const;
export type Await = (typeof AWAIT)[keyof typeof AWAIT];

export interface Pending {
  awaiting: Await;
  qos: 0 | 1 | 2;
  sentUs: number;
  /** The owner's number for the message (herd: telemetry seq + 1; 0 = none), handed back on its ack. */
  tag: number;
}

export class Inflight {
  private readonly out = new Map<number, Pending>();
  private readonly inboundQos2 = new Set<number>();
  private nextId = 1;
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** A free packet id for a new outbound exchange, or 0 when `max` are already in flight. */
  allocate(awaiting: Await, qos: 0 | 1 | 2, sentUs: number, tag = 0): number {
    if (this.out.size >= this.max) return 0;
    // At most `max` (≪ 65535) ids are taken, so this finds one within max+1 steps.
    while (this.out.has(this.nextId)) this.nextId = (this.nextId % 65535) + 1;
    const id = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    this.out.set(id, { awaiting, qos, sentUs, tag });
    return id;
  }

  /** The exchange `id` if it awaits `kind`; it stays registered (PUBREC → PUBCOMP keeps it). */
  peek(id: number, kind: Await): Pending | undefined {
    const p = this.out.get(id);
    return p !== undefined && p.awaiting === kind ? p : undefined;
  }

  finish(id: number): void {
    this.out.delete(id);
  }

  get outboundCount(): number {
    return this.out.size;
  }

  /** Registers an inbound QoS 2 id; 'duplicate' when already held, 'full' past the cap. */
  receiveQos2(id: number): 'new' | 'duplicate' | 'full' {
    if (this.inboundQos2.has(id)) return 'duplicate';
    if (this.inboundQos2.size >= this.max) return 'full';
    this.inboundQos2.add(id);
    return 'new';
  }

  release(id: number): void {
    this.inboundQos2.delete(id);
  }

  get inboundCount(): number {
    return this.inboundQos2.size;
  }
}
