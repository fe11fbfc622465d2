/**
 * ws:// and wss:// adapters on the `ws` library. herd creates the TCP/TLS socket itself
 * (createConnection) so tcpConnect and tlsHandshake are timed on the raw socket, then `ws` does the
 * HTTP upgrade and framing. A non-101 answer becomes WS_HTTP_<status> (429/503 = load shedding).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { WebSocket } from 'ws';
import { wsHttpFailure } from '../classify.js';
import type { Link, LinkHandler, LinkTarget } from './link.js';
import { resetSocket } from './tcp.js';
import { connectTls, ranKeyExchange } from './tls-context.js';
import { PORT_TRIES, portTaken, sourcePortsOf, type AddressPorts } from './source-ports.js';
import type { ResolvedTls } from './tls-options.js';

export interface WsLinkOptions {
  /** Sec-WebSocket-Protocol offered, e.g. "mqtt"; none when undefined. */
  subprotocol: string | undefined;
  /** Largest message accepted (ws closes with 1009 beyond it). */
  maxMessageBytes: number;
  /** Extra upgrade request headers (e.g. an auth token). */
  headers: Record<string, string> | undefined;
}

const LINK = Symbol('herd.wslink');
type TaggedSocket = net.Socket & { [LINK]: WsLink };
type TaggedWs = WebSocket & { [LINK]: WsLink };

export class WsLink implements Link {
  readonly handler: LinkHandler;
  socket: TaggedSocket;
  ws: TaggedWs;
  readonly tls: ResolvedTls | null;
  readonly deviceKey: number;
  upgraded = false;
  closed = false;
  /** The close code the peer's close frame carried (1005 when it had none, 1006 without a frame). */
  closeCode = 0;
  private dark = false;
  private readonly o: WsLinkOptions;
  /** The source address's ports when this worker hands them out (source-ports.ts); else null. */
  private readonly ports: AddressPorts | null;
  /** The explicit source port of the current socket; 0 when the kernel picked one. */
  private localPort = 0;
  /** Where to dial again when the port turns out taken; null once connected or without ports. */
  private redialTo: LinkTarget | null;
  private portTries = 1;
  /** Set when no source port could be had: reported instead of the last socket's error. */
  portFailure: Error | null = null;
  /** The TLS session this attempt offers, decided once: a redial offers the same. */
  private readonly offer: Buffer | undefined;

  constructor(t: LinkTarget, tlsSettings: ResolvedTls | null, deviceKey: number, o: WsLinkOptions, h: LinkHandler) {
    this.handler = h;
    this.tls = tlsSettings;
    this.deviceKey = deviceKey;
    this.offer = tlsSettings?.sessions.take(deviceKey);
    this.o = o;
    this.ports = sourcePortsOf(t.localAddress);
    this.redialTo = this.ports === null ? null : t;
    this.socket = this.dial(t);
    this.ws = this.upgrade(t);
  }

  private dial(t: LinkTarget): TaggedSocket {
    this.localPort = this.ports === null ? 0 : this.ports.take();
    let raw: net.Socket;
    try {
      if (this.tls === null) {
        const no: net.NetConnectOpts = { host: t.address, port: t.port, noDelay: true };
        if (t.localAddress !== undefined) no.localAddress = t.localAddress;
        if (this.localPort !== 0) no.localPort = this.localPort;
        raw = net.connect(no);
      } else {
        raw = connectTls(t, this.tls, this.deviceKey, this.localPort, this.offer);
      }
    } catch (err) {
      this.releasePort();
      throw err;
    }
    const s = raw as TaggedSocket;
    s[LINK] = this;
    // Ahead of Node's TLS 'connect' listener (it builds the ClientHello): see tcp.ts.
    s.prependListener('connect', onSocketConnect);
    if (this.tls !== null) {
      s.on('secureConnect', onSecureConnect);
      if (this.tls.sessions.savesSessions) s.on('session', onSession);
    }
    // Errors reach us through ws (its request owns the socket), except a taken source port.
    s.on('error', onSocketError);
    s.on('close', onSocketClose);
    return s;
  }

  private upgrade(t: LinkTarget): TaggedWs {
    const s = this.socket;
    const o = this.o;
    const scheme = this.tls === null ? 'ws' : 'wss';
    const host = net.isIP(t.hostname) === 6 ? `[${t.hostname}]` : t.hostname;
    const url = `${scheme}://${host}:${t.port}${t.path}`;
    const wo: ConstructorParameters<typeof WebSocket>[2] & object = {
      perMessageDeflate: false,
      maxPayload: o.maxMessageBytes,
      skipUTF8Validation: true,
      followRedirects: false,
      // One closure per attempt, dropped with the request after the upgrade.
      createConnection: () => s,
    };
    if (o.headers !== undefined) wo.headers = o.headers;
    const ws = new WebSocket(url, o.subprotocol === undefined ? [] : [o.subprotocol], wo) as TaggedWs;
    ws[LINK] = this;
    ws.on('upgrade', onUpgrade);
    ws.on('unexpected-response', onUnexpectedResponse);
    ws.on('open', onOpen);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
    return ws;
  }

  /**
   * On a source port another socket holds, before anything reached the target: dials from the next
   * port with a new socket and upgrade request, up to PORT_TRIES ports. The old request still fails
   * on its own; its events are ignored (they no longer come from this.ws / this.socket).
   */
  redial(err: unknown): void {
    const t = this.redialTo;
    const code = portTaken(err);
    if (t === null || this.ports === null || code === null) return;
    this.releasePort();
    try {
      if (this.portTries >= PORT_TRIES) throw this.ports.exhausted(code);
      this.portTries++;
      this.socket = this.dial(t);
      this.ws = this.upgrade(t);
    } catch (e) {
      // The old request reports its failure and close through the usual handlers, with this error.
      this.redialTo = null;
      this.portFailure = e instanceof Error ? e : new Error(String(e));
    }
  }

  connected(): void {
    this.redialTo = null;
  }

  releasePort(): void {
    if (this.localPort !== 0) this.ports?.release(this.localPort);
    this.localPort = 0;
  }

  write(bytes: Buffer): void {
    if (!this.dark && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  /** A text frame (plain WebSocket devices' hello and messages). */
  writeText(text: string): void {
    if (!this.dark && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  get bufferedWriteBytes(): number {
    return this.ws.bufferedAmount;
  }

  ping(): void {
    if (!this.dark && this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  end(): void {
    if (!this.dark && this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.socket.destroy();
  }

  blackhole(): void {
    this.dark = true;
    // ws reads frames from the raw socket's 'data' events: paused, no frame (and no pong) arrives.
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  reset(): void {
    resetSocket(this.socket);
  }

  fireClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler.linkClose();
  }
}

export function openWsLink(
  t: LinkTarget,
  tlsSettings: ResolvedTls | null,
  deviceKey: number,
  o: WsLinkOptions,
  h: LinkHandler,
): WsLink {
  return new WsLink(t, tlsSettings, deviceKey, o, h);
}

function onSocketConnect(this: TaggedSocket): void {
  const l = this[LINK];
  l.connected();
  l.handler.linkTcpConnected();
}
function onSocketError(this: TaggedSocket, err: Error): void {
  const l = this[LINK];
  if (this === l.socket) l.redial(err);
}
function onSecureConnect(this: TaggedSocket): void {
  const l = this[LINK];
  const socket = this as unknown as tls.TLSSocket;
  const resumed = socket.isSessionReused();
  l.tls?.sessions.countHandshake(resumed, !resumed || ranKeyExchange(socket));
  l.handler.linkTlsDone(resumed);
}
function onSession(this: TaggedSocket, session: Buffer): void {
  const l = this[LINK];
  l.tls?.sessions.save(l.deviceKey, session);
}
function onSocketClose(this: TaggedSocket): void {
  const l = this[LINK];
  if (this !== l.socket) return; // a socket whose source port was taken (redial)
  l.releasePort();
  // After the upgrade ws reports the close itself (after delivering any buffered messages).
  if (!l.upgraded) l.fireClose();
}
function onUpgrade(this: WebSocket): void {
  // ws owns the socket from here (and reports its close), but it has not yet checked
  // Sec-WebSocket-Accept or the subprotocol: the upgrade counts as done only at 'open'.
  (this as TaggedWs)[LINK].upgraded = true;
}
function onUnexpectedResponse(this: WebSocket, req: ClientRequest, res: IncomingMessage): void {
  const l = (this as TaggedWs)[LINK];
  l.handler.linkError(null, wsHttpFailure(res.statusCode ?? 0));
  req.destroy();
  l.socket.destroy();
}
function onOpen(this: WebSocket): void {
  const h = (this as TaggedWs)[LINK].handler;
  h.linkWsUpgraded();
  h.linkReady();
}
function onMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[]): void {
  const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  (this as TaggedWs)[LINK].handler.linkData(chunk);
}
function onPong(this: WebSocket): void {
  (this as TaggedWs)[LINK].handler.linkPong();
}
function onWsError(this: WebSocket, err: Error): void {
  const l = (this as TaggedWs)[LINK];
  if (this === l.ws) l.handler.linkError(l.portFailure ?? err, null);
}
function onWsClose(this: WebSocket, code: number): void {
  const l = (this as TaggedWs)[LINK];
  if (this !== l.ws) return;
  l.closeCode = code;
  l.upgraded = true;
  l.fireClose();
}
