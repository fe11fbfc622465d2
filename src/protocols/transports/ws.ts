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
  readonly socket: TaggedSocket;
  readonly ws: TaggedWs;
  readonly tls: ResolvedTls | null;
  readonly deviceKey: number;
  upgraded = false;
  closed = false;
  /** The close code the peer's close frame carried (1005 when it had none, 1006 without a frame). */
  closeCode = 0;
  private dark = false;

  constructor(t: LinkTarget, tlsSettings: ResolvedTls | null, deviceKey: number, o: WsLinkOptions, h: LinkHandler) {
    this.handler = h;
    this.tls = tlsSettings;
    this.deviceKey = deviceKey;
    let raw: net.Socket;
    if (tlsSettings === null) {
      const no: net.NetConnectOpts = { host: t.address, port: t.port, noDelay: true };
      if (t.localAddress !== undefined) no.localAddress = t.localAddress;
      raw = net.connect(no);
    } else {
      raw = connectTls(t, tlsSettings, deviceKey);
    }
    const s = raw as TaggedSocket;
    s[LINK] = this;
    this.socket = s;
    s.on('connect', onSocketConnect);
    if (tlsSettings !== null) {
      s.on('secureConnect', onSecureConnect);
      if (tlsSettings.sessions.savesSessions) s.on('session', onSession);
    }
    s.on('error', ignore); // errors reach us through ws (its request owns the socket)
    s.on('close', onSocketClose);
    const scheme = tlsSettings === null ? 'ws' : 'wss';
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
    this.ws = ws;
    ws.on('upgrade', onUpgrade);
    ws.on('unexpected-response', onUnexpectedResponse);
    ws.on('open', onOpen);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
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

function ignore(): void {}
function onSocketConnect(this: TaggedSocket): void {
  this[LINK].handler.linkTcpConnected();
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
  (this as TaggedWs)[LINK].handler.linkError(err, null);
}
function onWsClose(this: WebSocket, code: number): void {
  const l = (this as TaggedWs)[LINK];
  l.closeCode = code;
  l.upgraded = true;
  l.fireClose();
}
