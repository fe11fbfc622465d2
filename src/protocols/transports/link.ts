/**
 * The one interface every transport adapter implements: a byte pipe to the target
 * that reports its handshake milestones. A protocol (MQTT, plain WebSocket device) sits on top and
 * never knows whether the bytes travel over TCP, TLS or WebSocket frames.
 */
import type { Failure } from '../classify.js';

/** Implemented by the protocol layer; adapters call it through shared functions, not closures. */
export interface LinkHandler {
  /** TCP three-way handshake finished. */
  linkTcpConnected(): void;
  /** TLS handshake finished; `resumed` is tlsSocket.isSessionReused(). */
  linkTlsDone(resumed: boolean): void;
  /** WebSocket upgrade answered 101 and accepted. */
  linkWsUpgraded(): void;
  /** Ready for protocol bytes (after the last handshake this transport has). */
  linkReady(): void;
  /** Bytes (TCP/TLS) or one message's payload (WebSocket). */
  linkData(chunk: Buffer): void;
  /** A WebSocket pong arrived. */
  linkPong(): void;
  /** A wire failure, already classified when the adapter knows better than an errno (HTTP status). */
  linkError(err: unknown, failure: Failure | null): void;
  /** The transport closed; called once, last. */
  linkClose(): void;
}

export interface Link {
  /** False when the write was queued behind earlier ones (back-pressure). */
  write(bytes: Buffer): void;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  readonly bufferedWriteBytes: number;
  /** WebSocket ping frame; a no-op for stream transports. */
  ping(): void;
  /** Graceful close: WebSocket close frame 1000, or TCP FIN after pending writes. */
  end(): void;
  /** Immediate close. */
  destroy(): void;
  /** Immediate close with a TCP RST where the platform allows it. */
  reset(): void;
  /**
   * The path to the target goes dark (a silent outage): stop reading, drop every later write,
   * keep the socket open. Only keepalive can find out; destroy() still closes it.
   */
  blackhole(): void;
}

/** Where to connect, after the device layer resolved the name (the link never does DNS). */
export interface LinkTarget {
  /** IP address to connect to. */
  address: string;
  port: number;
  /** The name the user gave (SNI and the HTTP Host header); equals `address` when an IP was given. */
  hostname: string;
  /** HTTP path of a WebSocket upgrade, e.g. "/mqtt". */
  path: string;
  localAddress: string | undefined;
}
