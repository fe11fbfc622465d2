/** A recording owner for protocol adapter tests: every callback is kept and can be awaited. */
import { performance } from 'node:perf_hooks';
import type { Failure } from '../../src/protocols/classify.js';
import type { Device, DeviceOwner, InboundMessage } from '../../src/protocols/device.js';
import { DEVICE_KIND_ROWS, prepareTarget } from '../../src/protocols/kinds.js';
import { buildConnect } from '../../src/protocols/mqtt/connect-packet.js';

export interface Recorded {
  kind: 'connected' | 'failed' | 'lost' | 'closed' | 'subscribed' | 'published' | 'message';
  deviceId: number;
  failure?: Failure;
  sessionPresent?: boolean;
  packetId?: number;
  granted?: number[];
  latencyUs?: number;
  qos?: number;
  reasonCode?: number;
  /** onPublished: the tag given to publish(). */
  tag?: number;
  message?: InboundMessage;
  data?: Buffer;
  /** How many batches of outcomes had ended (batchEnded) when this one was reported. */
  batch?: number;
}

export class RecordingOwner implements DeviceOwner {
  readonly events: Recorded[] = [];
  /** batchEnded() calls: the native core reports after each batch of outcomes. */
  batchesEnded = 0;
  private waiters: { pred: (e: Recorded[]) => boolean; resolve: () => void }[] = [];

  now(): number {
    return Math.round(performance.now() * 1000);
  }

  onConnected(c: Device): void {
    this.push({ kind: 'connected', deviceId: c.deviceId, sessionPresent: c.sessionPresent });
  }
  onFailed(c: Device, f: Failure): void {
    this.push({ kind: 'failed', deviceId: c.deviceId, failure: f });
  }
  onLost(c: Device, f: Failure): void {
    this.push({ kind: 'lost', deviceId: c.deviceId, failure: f });
  }
  onClosed(c: Device): void {
    this.push({ kind: 'closed', deviceId: c.deviceId });
  }
  onSubscribed(c: Device, packetId: number, granted: number[], latencyUs: number): void {
    this.push({ kind: 'subscribed', deviceId: c.deviceId, packetId, granted, latencyUs });
  }
  onPublished(c: Device, packetId: number, qos: 1 | 2, latencyUs: number, reasonCode: number, tag: number): void {
    this.push({ kind: 'published', deviceId: c.deviceId, packetId, qos, latencyUs, reasonCode, tag });
  }
  onMessage(c: Device, m: InboundMessage): void {
    this.push({ kind: 'message', deviceId: c.deviceId, message: m });
  }
  onData(c: Device, data: Buffer, receivedUs: number): void {
    this.push({ kind: 'message', deviceId: c.deviceId, data, latencyUs: receivedUs });
  }

  batchEnded(): void {
    this.batchesEnded++;
  }

  of(kind: Recorded['kind'], deviceId?: number): Recorded[] {
    return this.events.filter((e) => e.kind === kind && (deviceId === undefined || e.deviceId === deviceId));
  }

  /**
   * Resolves when `pred` holds (checked on every event and every 5 ms, for state that changes
   * without an event); rejects after `timeoutMs` naming what was seen.
   */
  waitFor(pred: (e: Recorded[]) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (pred(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `timed out waiting for ${what}; saw ${JSON.stringify(this.events.slice(-20).map((e) => [e.kind, e.deviceId, e.failure?.code]))}`,
          ),
        );
      }, timeoutMs);
      const poll = setInterval(() => {
        if (pred(this.events)) {
          this.waiters = this.waiters.filter((w) => w.resolve !== done);
          done();
        }
      }, 5);
      const done = (): void => {
        clearTimeout(t);
        clearInterval(poll);
        resolve();
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  waitKind(kind: Recorded['kind'], deviceId: number, count = 1, timeoutMs = 10_000): Promise<Recorded[]> {
    return this.waitFor(
      (ev) => ev.filter((e) => e.kind === kind && e.deviceId === deviceId).length >= count,
      timeoutMs,
      `${count}× ${kind} of device ${deviceId}`,
    ).then(() => this.of(kind, deviceId));
  }

  /** The first terminal outcome of an attempt (connected or failed). */
  async outcome(deviceId: number, timeoutMs = 10_000): Promise<Recorded> {
    await this.waitFor(
      (ev) => ev.some((e) => e.deviceId === deviceId && (e.kind === 'connected' || e.kind === 'failed')),
      timeoutMs,
      `outcome of ${deviceId}`,
    );
    return this.events.find(
      (e) => e.deviceId === deviceId && (e.kind === 'connected' || e.kind === 'failed'),
    ) as Recorded;
  }

  private push(e: Recorded): void {
    e.batch = this.batchesEnded;
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.pred(this.events)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }
}

/** Opens one MQTT 3.1.1 device (clean session, keepalive 30 s) to a loopback `port` on `engine`. */
export function openMqttDevice(
  owner: DeviceOwner,
  o: {
    engine: 'js' | 'native';
    port: number;
    id: number;
    clientId: string;
    timeoutMs: number;
    localAddress?: string;
    /** Default 127.0.0.1; a name is looked up on every attempt (dnsTtl 0 s). */
    host?: string;
  },
): Device {
  return DEVICE_KIND_ROWS.mqtt.open(
    prepareTarget('mqtt', `mqtt://${o.host ?? '127.0.0.1'}:${o.port}`),
    {
      engine: o.engine,
      deviceId: o.id,
      localAddress: o.localAddress,
      connectTimeoutMs: o.timeoutMs,
      maxPacketBytes: 4096,
      connectPacket: buildConnect({
        clientId: o.clientId,
        username: null,
        password: null,
        keepaliveS: 30,
        clean: true,
        protocolVersion: 4,
      }),
    },
    owner,
  );
}
