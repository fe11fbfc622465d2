/**
 * A plain WebSocket device (no MQTT): it upgrades, optionally sends a hello frame, keeps alive with
 * ping/pong and receives messages (owner.onData). Same owner and phase timings as an MQTT
 * connection, with the upgrade as its last handshake.
 */
import { wsCloseFailure, type Failure } from '../classify.js';
import { LinkedDevice } from '../device-base.js';
import type { Device, DeviceOwner } from '../device.js';
import type { NameCache } from '../names.js';
import type { ResolvedTls } from '../transports/tls-options.js';
import type { WsLink } from '../transports/ws.js';

export interface WsDeviceOptions {
  scheme: 'ws' | 'wss';
  /** Host name or IP; a name adds a dns phase. */
  host: string;
  port: number;
  /** Request path; default "/". */
  path?: string;
  localAddress: string | undefined;
  connectTimeoutMs: number;
  /** Largest inbound message; bigger closes the connection (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH). */
  maxMessageBytes: number;
  /** Required for wss (resolveTls()). */
  tls?: ResolvedTls;
  headers?: Record<string, string>;
  subprotocol?: string;
  /** Sent right after the upgrade: a string as a text frame, a Buffer as a binary frame. */
  hello?: string | Buffer;
  /** Cap on bytes queued for sending; send() refuses past it. Default 256 KiB. */
  maxBufferedBytes?: number;
  /** The target's shared answers for a host name (PreparedTarget.names). */
  names?: NameCache | null;
}

/** How long end() waits for the server's close frame and TCP close. */
export const WS_CLOSE_GRACE_MS = 3_000;

export class WsDevice extends LinkedDevice implements Device {
  protected get protocolPhase(): 'held' {
    return 'held';
  }
  /** No MQTT session (the engine's Device interface). */
  readonly mqtt = null;
  readonly sessionPresent = false;
  private readonly owner: DeviceOwner;
  private hello: string | Buffer | null;
  private readonly maxBufferedBytes: number;

  constructor(owner: DeviceOwner, deviceId: number, o: WsDeviceOptions) {
    super(owner, deviceId, o.scheme);
    this.owner = owner;
    this.hello = o.hello ?? null;
    this.maxBufferedBytes = o.maxBufferedBytes ?? 256 * 1024;
    this.start({
      scheme: o.scheme,
      host: o.host,
      port: o.port,
      path: o.path ?? '/',
      localAddress: o.localAddress,
      connectTimeoutMs: o.connectTimeoutMs,
      names: o.names,
      ctx: {
        tls: o.tls ?? null,
        deviceKey: deviceId,
        subprotocol: o.subprotocol,
        maxMessageBytes: o.maxMessageBytes,
        headers: o.headers,
      },
    });
  }

  /** Same meaning as MqttConnection.connackUs: when the device became usable. */
  get connackUs(): number {
    return this.readyUs;
  }

  /** A WebSocket ping unless one is outstanding (any frame received answers it). */
  ping(): void {
    if (this.state !== 'connected' || this.link === null || !Number.isNaN(this.pingSentUs)) return;
    this.pingSentUs = this.clock.now();
    this.link.ping();
  }

  /** Sends a message; false when not connected or the send buffer is over its cap. */
  send(data: string | Buffer): boolean {
    const l = this.link as WsLink | null;
    if (l === null || this.state !== 'connected') return false;
    if (l.bufferedWriteBytes + data.length > this.maxBufferedBytes) return false;
    if (typeof data === 'string') l.writeText(data);
    else l.write(data);
    return true;
  }

  /** Close frame 1000, then wait for the server to close (forced after WS_CLOSE_GRACE_MS). */
  end(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (this.state !== 'connected' || this.link === null) {
      this.abort();
      return;
    }
    this.link.end();
    this.closeAfter(WS_CLOSE_GRACE_MS);
  }

  linkReady(): void {
    if (this.state !== 'handshaking') return;
    this.markReady();
    if (this.hello !== null) {
      this.send(this.hello);
      this.hello = null;
    }
    this.owner.onConnected(this);
  }

  linkData(chunk: Buffer): void {
    if (this.state !== 'connected' && this.state !== 'closing') return;
    this.pingSentUs = NaN;
    this.owner.onData?.(this, chunk, this.clock.now());
  }

  override linkClose(): void {
    const l = this.link as WsLink | null;
    const code = l?.closeCode ?? 0;
    if (this.state === 'connected' && code !== 0 && code !== 1005 && code !== 1006) {
      // The server said why it closed; 1013 "try again later" is load shedding.
      this.clearTimer();
      this.state = 'closed';
      this.link = null;
      this.reportLost(wsCloseFailure(code));
      return;
    }
    super.linkClose();
  }

  protected reportFailed(f: Failure): void {
    this.owner.onFailed(this, f);
  }

  protected reportLost(f: Failure): void {
    this.owner.onLost(this, f);
  }

  protected reportClosed(): void {
    this.owner.onClosed(this);
  }
}
