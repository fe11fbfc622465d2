/**
 * Every TCP connection of every listener passes this gate first (one accept path), which owns:
 * - maxConnections: past the cap a new connection is accepted and closed at once — what a libuv
 *   or nginx-style server at its open-file limit ends up doing (libuv's EMFILE trick accepts and
 *   closes; the client sees a close or RST before any CONNACK), rather than leaving SYNs to time
 *   out, which only a server that stops calling accept() would do;
 * - outages: at the start, a share of open connections is dropped (close = FIN, reset = RST,
 *   silent = stop reading and delivering); during it, a share of new connections is refused the
 *   same way (silent: accepted and never answered, reset when the outage ends).
 */
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerName, TargetMetricsSnapshot } from './metrics.js';
import type { OutageSpec } from './options.js';
import { evenShare } from './shares.js';

/** Give a closed-by-us connection this long to finish before it is destroyed. */
const CLOSE_LINGER_MS = 2_000;

export interface Tracked {
  raw: net.Socket;
  listener: ListenerName;
  /** The stream the protocol runs on when it is not the raw socket (TLS, WebSocket). */
  top: Duplex | null;
  /** The stream aedes reads (for silencing deliveries). */
  mqttStream: Duplex | null;
}

export interface GateOptions {
  maxConnections: number | null;
  metrics: TargetMetricsSnapshot;
  silenced: WeakSet<object>;
  /** Asks the outage schedule whether a new connection is refused now. */
  refusingOutage(): OutageSpec | null;
}

export class ConnectionGate {
  private readonly open = new Set<Tracked>();
  private readonly heldSilent = new Set<net.Socket>();
  private readonly silencedTracked = new Set<Tracked>();

  constructor(private readonly o: GateOptions) {}

  get size(): number {
    return this.open.size;
  }

  /** Returns the tracked entry, or null when the connection was refused. */
  admit(raw: net.Socket, listener: ListenerName): Tracked | null {
    const m = this.o.metrics;
    m.acceptsTotal[listener]++;
    raw.on('error', () => {});
    const outage = this.o.refusingOutage();
    if (outage !== null) {
      m.refusalsTotal.outage++;
      if (outage.mode === 'silent') {
        raw.pause();
        this.heldSilent.add(raw);
        raw.once('close', () => this.heldSilent.delete(raw));
      } else {
        // refusingOutage never answers with a blackhole (it refuses nobody).
        dropSocket(raw, outage.mode === 'reset' ? 'reset' : 'close');
      }
      return null;
    }
    if (this.o.maxConnections !== null && this.open.size >= this.o.maxConnections) {
      m.refusalsTotal.max_connections++;
      raw.destroy();
      return null;
    }
    const t: Tracked = { raw, listener, top: null, mqttStream: null };
    this.open.add(t);
    m.connections[listener]++;
    raw.once('close', () => {
      this.open.delete(t);
      this.silencedTracked.delete(t);
      m.connections[listener]--;
    });
    return t;
  }

  /** An outage starts: drop exactly floor(open × share) connections, oldest first in order. */
  startOutage(outage: OutageSpec): void {
    if (outage.mode === 'blackhole') return; // connections stay; the broker swallows deliveries
    const choose = evenShare(outage.share);
    const victims = [...this.open].filter(() => choose());
    this.o.metrics.outageDropsTotal += victims.length;
    for (const t of victims) {
      if (outage.mode === 'silent') this.silence(t);
      else dropSocket(t.raw, outage.mode);
    }
  }

  /** The outage is over: sockets held silent are reset, as a peer that lost their state would. */
  endOutage(): void {
    for (const s of this.heldSilent) dropSocket(s, 'reset');
    this.heldSilent.clear();
    for (const t of this.silencedTracked) dropSocket(t.raw, 'reset');
    this.silencedTracked.clear();
  }

  closeAll(): void {
    for (const s of this.heldSilent) s.destroy();
    for (const t of this.open) t.raw.destroy();
  }

  private silence(t: Tracked): void {
    // aedes (and the front layer) read in paused mode on 'readable', which pause() does not stop:
    // dropping those listeners leaves bytes unread, so pings go unanswered and backpressure
    // reaches the kernel. Pausing the transport stops WebSocket frames (and their pongs) too.
    t.mqttStream?.removeAllListeners('readable');
    (t.top ?? t.raw).pause();
    this.o.silenced.add(t.raw);
    if (t.top) this.o.silenced.add(t.top);
    if (t.mqttStream) this.o.silenced.add(t.mqttStream);
    this.silencedTracked.add(t);
  }
}

export function dropSocket(s: net.Socket, mode: 'close' | 'reset'): void {
  if (s.destroyed) return;
  if (mode === 'reset') {
    // RST (SO_LINGER 0), as a crashed process or a load balancer with no backend sends.
    s.resetAndDestroy();
    return;
  }
  s.end();
  setTimeout(() => s.destroy(), CLOSE_LINGER_MS).unref();
}
