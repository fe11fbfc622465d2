/**
 * mqtt:// and mqtts:// adapters: a raw TCP socket, optionally wrapped in TLS. Events reach the
 * handler through shared functions and a tag on the socket, so a held connection costs no closures.
 */
import * as net from 'node:net';
import type * as tls from 'node:tls';
import type { Link, LinkHandler, LinkTarget } from './link.js';
import { connectTls, ranKeyExchange } from './tls-context.js';
import type { ResolvedTls } from './tls-options.js';

const LINK = Symbol('herd.link');
type Tagged = net.Socket & { [LINK]: StreamLink };

export class StreamLink implements Link {
  readonly socket: Tagged;
  readonly handler: LinkHandler;
  readonly tls: ResolvedTls | null;
  readonly deviceKey: number;
  private dark = false;

  constructor(
    socket: net.Socket,
    handler: LinkHandler,
    tlsSettings: ResolvedTls | null,
    deviceKey: number,
    sharedRead = false,
  ) {
    const s = socket as Tagged;
    s[LINK] = this;
    this.socket = s;
    this.handler = handler;
    this.tls = tlsSettings;
    this.deviceKey = deviceKey;
    s.on('connect', onConnect);
    if (tlsSettings !== null) {
      s.on('secureConnect', onSecureConnect);
      if (tlsSettings.sessions.savesSessions) s.on('session', onSession);
    }
    // Plain TCP links read into one shared buffer (see openTcpLink); the rest get 'data' events.
    if (!sharedRead) s.on('data', onData);
    s.on('error', onError);
    s.on('close', onClose);
  }

  write(bytes: Buffer): void {
    if (!this.dark) this.socket.write(bytes);
  }

  get bufferedWriteBytes(): number {
    return this.socket.writableLength;
  }

  ping(): void {}

  end(): void {
    // Nothing reaches the peer any more: a FIN would only leave the socket waiting.
    if (this.dark) this.socket.destroy();
    else this.socket.end();
  }

  blackhole(): void {
    this.dark = true;
    // Works for the shared-read-buffer sockets too (net.Socket#pause stops the handle reading).
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  reset(): void {
    resetSocket(this.socket);
  }
}

/** RST where the socket has a TCP handle; TLS sockets fall back to a plain destroy. */
export function resetSocket(s: net.Socket): void {
  try {
    s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

/**
 * One read buffer for every plain TCP socket of the process, instead of a fresh 64 KiB allocation
 * per read: measured ~7 µs less CPU per handshake and ~600 B less RSS per held connection. Safe
 * because every reader consumes its bytes synchronously (the frame splitter copies any leftover).
 */
const SHARED_READ_BUFFER = Buffer.alloc(64 * 1024);

export function openTcpLink(t: LinkTarget, h: LinkHandler): StreamLink {
  const opts: net.NetConnectOpts = {
    host: t.address,
    port: t.port,
    noDelay: true,
    onread: {
      buffer: SHARED_READ_BUFFER,
      callback: onSharedRead as unknown as (bytesWritten: number, buf: Uint8Array) => boolean,
    },
  };
  if (t.localAddress !== undefined) opts.localAddress = t.localAddress;
  return new StreamLink(net.connect(opts), h, null, 0, true);
}

function onSharedRead(this: Tagged, nread: number, buf: Buffer): void {
  this[LINK].handler.linkData(buf.subarray(0, nread));
}

export function openTlsLink(t: LinkTarget, settings: ResolvedTls, deviceKey: number, h: LinkHandler): StreamLink {
  return new StreamLink(connectTls(t, settings, deviceKey), h, settings, deviceKey);
}

function onConnect(this: Tagged): void {
  const l = this[LINK];
  l.handler.linkTcpConnected();
  if (l.tls === null) l.handler.linkReady();
}
function onSecureConnect(this: Tagged): void {
  const l = this[LINK];
  const socket = this as unknown as tls.TLSSocket;
  const resumed = socket.isSessionReused();
  l.tls?.sessions.countHandshake(resumed, !resumed || ranKeyExchange(socket));
  l.handler.linkTlsDone(resumed);
  l.handler.linkReady();
}
function onSession(this: Tagged, session: Buffer): void {
  const l = this[LINK];
  l.tls?.sessions.save(l.deviceKey, session);
}
function onData(this: Tagged, chunk: Buffer): void {
  this[LINK].handler.linkData(chunk);
}
function onError(this: Tagged, err: Error): void {
  this[LINK].handler.linkError(err, null);
}
function onClose(this: Tagged): void {
  const l = this[LINK];
  this.removeAllListeners();
  // A late 'error' after close must not become an uncaught exception.
  this.on('error', ignore);
  l.handler.linkClose();
}
function ignore(): void {}
