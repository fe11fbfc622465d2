/**
 * A lean MQTT device connection on a raw socket: one pre-built CONNECT, a bounded frame splitter,
 * hand-decoded CONNACK/PINGRESP, and shared handler functions instead of per-socket closures
 * (a held connection must cost as little memory as possible). It reports to its owner; it never
 * throws on wire failures and never retries on its own.
 */
import type * as net from 'node:net';
import { classifyError, connackFailure, type Failure } from '../classify.js';
import { DISCONNECT_V4, FrameSplitter, PACKET, PINGREQ, type FrameError, type FrameSink } from './frames.js';
import { openTcp } from '../transports/tcp.js';

export type ConnState = 'connecting' | 'handshaking' | 'connected' | 'closing' | 'closed';

export interface MqttOwner {
  /** µs since the run origin. */
  now(): number;
  onConnected(c: MqttConnection, sessionPresent: boolean): void;
  /** The attempt failed before CONNACK (exactly once per attempt, unless it connected). */
  onFailed(c: MqttConnection, f: Failure): void;
  /** A connected session ended without being asked to. */
  onLost(c: MqttConnection, f: Failure): void;
  /** A session we ended has closed. */
  onClosed(c: MqttConnection): void;
}

export interface MqttConnectOptions {
  host: string;
  port: number;
  localAddress: string | undefined;
  connectPacket: Buffer;
  connectTimeoutMs: number;
  maxPacketBytes: number;
}

const OWNER = Symbol('herd.connection');
type TaggedSocket = net.Socket & { [OWNER]: MqttConnection };
/** How long a clean end waits for the server to close first before forcing it. */
export const CLOSE_GRACE_MS = 3_000;

export class MqttConnection implements FrameSink {
  readonly deviceId: number;
  state: ConnState = 'connecting';
  /** µs since origin; NaN until reached. */
  socketOpenUs = NaN;
  tcpConnectedUs = NaN;
  connackUs = NaN;
  /** When the outstanding PINGREQ was sent; NaN when none is outstanding. */
  pingSentUs = NaN;
  private socket: TaggedSocket | null = null;
  private splitter: FrameSplitter;
  private connectPacket: Buffer | null;
  private timer: NodeJS.Timeout | null = null;
  private readonly owner: MqttOwner;

  constructor(owner: MqttOwner, deviceId: number, o: MqttConnectOptions) {
    this.owner = owner;
    this.deviceId = deviceId;
    this.connectPacket = o.connectPacket;
    this.splitter = new FrameSplitter(o.maxPacketBytes);
    this.socketOpenUs = owner.now();
    let s: net.Socket;
    try {
      s = openTcp({ host: o.host, port: o.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) });
    } catch (err) {
      // Synchronous failures (EMFILE on socket creation, bad address) are still data.
      this.state = 'closed';
      queueMicrotask(() => owner.onFailed(this, classifyError(err, 'tcpConnect')));
      return;
    }
    const ts = s as TaggedSocket;
    ts[OWNER] = this;
    this.socket = ts;
    ts.on('connect', onSocketConnect);
    ts.on('data', onSocketData);
    ts.on('error', onSocketError);
    ts.on('close', onSocketClose);
    this.timer = setTimeout(onConnectTimeout, o.connectTimeoutMs, this);
  }

  /** Sends PINGREQ; the owner checks `pingSentUs` to detect a missing PINGRESP. */
  ping(): void {
    if (this.state !== 'connected' || this.socket === null) return;
    this.pingSentUs = this.owner.now();
    this.socket.write(PINGREQ);
  }

  /**
   * Ends the session cleanly: DISCONNECT, then wait for the server to close first so TIME_WAIT
   * stays on its side (FINDINGS.md), forcing the close after CLOSE_GRACE_MS.
   */
  end(): void {
    if (this.socket === null || this.state === 'closed' || this.state === 'closing') return;
    if (this.state !== 'connected') {
      this.abort();
      return;
    }
    this.state = 'closing';
    this.socket.write(DISCONNECT_V4);
    this.timer = setTimeout(onCloseGrace, CLOSE_GRACE_MS, this);
  }

  /** Drops the connection at once (RST when possible). */
  reset(): void {
    if (this.socket === null || this.state === 'closed') return;
    this.state = 'closing';
    this.socket.resetAndDestroy();
  }

  abort(): void {
    if (this.socket === null || this.state === 'closed') return;
    this.state = 'closing';
    this.socket.destroy();
  }

  // ---- socket events (called through the shared handlers below) ----

  handleConnect(): void {
    if (this.state !== 'connecting' || this.socket === null || this.connectPacket === null) return;
    this.tcpConnectedUs = this.owner.now();
    this.state = 'handshaking';
    this.socket.write(this.connectPacket);
    this.connectPacket = null;
  }

  handleData(chunk: Buffer): void {
    this.splitter.push(chunk, this);
  }

  onPacket(firstByte: number, body: Buffer): void {
    const type = firstByte >> 4;
    if (this.state === 'handshaking') {
      if (type !== PACKET.CONNACK || body.length < 2) return this.protocolFailure('MQTT_UNEXPECTED_PACKET');
      this.clearTimer();
      const rc = body[1] as number;
      if (rc !== 0) {
        this.failAttempt(connackFailure(rc));
        this.socket?.destroy();
        return;
      }
      this.connackUs = this.owner.now();
      this.state = 'connected';
      this.owner.onConnected(this, ((body[0] as number) & 1) === 1);
      return;
    }
    if (type === PACKET.PINGRESP) {
      this.pingSentUs = NaN;
      return;
    }
    if (type === PACKET.DISCONNECT && this.state === 'connected') {
      // MQTT 5 server-initiated DISCONNECT: the reason code says why.
      const rc = body.length > 0 ? (body[0] as number) : 0;
      this.lose({ origin: 'protocol', phase: 'held', code: `DISCONNECT_${rc.toString(16).padStart(2, '0').toUpperCase()}` });
      this.socket?.destroy();
    }
    // Other packets (PUBLISH, SUBACK…) are handled by the messaging layer when a scenario asks.
  }

  onFrameError(code: FrameError): void {
    this.protocolFailure(code);
  }

  handleError(err: Error): void {
    const phase = this.state === 'connecting' ? 'tcpConnect' : this.state === 'handshaking' ? 'mqttConnack' : 'held';
    const f = classifyError(err, phase);
    if (this.state === 'connecting' || this.state === 'handshaking') this.failAttempt(f);
    else if (this.state === 'connected') this.lose(f);
    // While closing, an error (e.g. a reset after our DISCONNECT) is part of the close.
  }

  handleClose(): void {
    this.clearTimer();
    const was = this.state;
    this.state = 'closed';
    if (this.socket !== null) {
      this.socket.removeAllListeners();
      this.socket = null;
    }
    if (was === 'connecting' || was === 'handshaking') {
      this.owner.onFailed(this, {
        origin: 'network',
        phase: was === 'connecting' ? 'tcpConnect' : 'mqttConnack',
        code: was === 'connecting' ? 'ECONNRESET' : 'CLOSED_BEFORE_CONNACK',
      });
    } else if (was === 'connected') {
      this.owner.onLost(this, { origin: 'network', phase: 'held', code: 'PEER_CLOSED' });
    } else if (was === 'closing') {
      this.owner.onClosed(this);
    }
  }

  handleTimeout(): void {
    this.timer = null;
    if (this.state !== 'connecting' && this.state !== 'handshaking') return;
    this.failAttempt({ origin: 'timeout', phase: this.state === 'connecting' ? 'tcpConnect' : 'mqttConnack', code: 'CONNECT_TIMEOUT' });
    this.socket?.destroy();
  }

  handleCloseGrace(): void {
    this.timer = null;
    this.socket?.destroy();
  }

  // ---- internals ----

  private protocolFailure(code: string): void {
    const f: Failure = { origin: 'protocol', phase: this.state === 'handshaking' ? 'mqttConnack' : 'held', code };
    if (this.state === 'handshaking') this.failAttempt(f);
    else if (this.state === 'connected') this.lose(f);
    this.socket?.destroy();
  }

  /** Reports the attempt's failure once and marks the connection so 'close' adds nothing. */
  private failAttempt(f: Failure): void {
    this.clearTimer();
    this.state = 'closed';
    this.detachSocketSoon();
    this.owner.onFailed(this, f);
  }

  private lose(f: Failure): void {
    this.state = 'closed';
    this.detachSocketSoon();
    this.owner.onLost(this, f);
  }

  /** Keeps the socket's listeners until it closes, but routes nothing more to the owner. */
  private detachSocketSoon(): void {
    const s = this.socket;
    if (s === null) return;
    this.socket = null;
    s.removeAllListeners('data');
    s.removeAllListeners('connect');
    s.removeAllListeners('close');
    s.removeAllListeners('error');
    s.on('error', ignore);
    s.destroy();
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

function ignore(): void {}
function onSocketConnect(this: TaggedSocket): void {
  this[OWNER].handleConnect();
}
function onSocketData(this: TaggedSocket, chunk: Buffer): void {
  this[OWNER].handleData(chunk);
}
function onSocketError(this: TaggedSocket, err: Error): void {
  this[OWNER].handleError(err);
}
function onSocketClose(this: TaggedSocket): void {
  this[OWNER].handleClose();
}
function onConnectTimeout(c: MqttConnection): void {
  c.handleTimeout();
}
function onCloseGrace(c: MqttConnection): void {
  c.handleCloseGrace();
}
