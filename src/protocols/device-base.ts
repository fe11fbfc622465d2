/**
 * What every device kind shares: an attempt that resolves a name (when one was given), opens a
 * transport link from the registry, times each handshake phase, enforces the connect timeout, and
 * turns every wire failure into one classified report. Subclasses add their protocol (MQTT, plain
 * WebSocket) on top of `linkReady`/`linkData`.
 */
import * as net from 'node:net';
import { classifyError, type Failure } from './classify.js';
import type { ConnState, PhaseTimes } from './device.js';
import { EACH_ATTEMPT, familyOf, type NameCache } from './names.js';
import { TRANSPORTS, type LinkContext, type TransportScheme } from './registry.js';
import type { Link, LinkHandler } from './transports/link.js';

export type { ConnState, PhaseTimes };
export type Phase = 'dns' | 'tcpConnect' | 'tlsHandshake' | 'wsUpgrade' | 'mqttConnack' | 'held';

export interface LinkSpec {
  scheme: TransportScheme;
  /** Host name or IP. */
  host: string;
  port: number;
  path: string;
  localAddress: string | undefined;
  connectTimeoutMs: number;
  ctx: LinkContext;
  /** The target's shared answers for a host name (names.ts); absent: the attempt looks it up alone. */
  names?: NameCache | null | undefined;
}

export interface Clock {
  /** µs since the run origin. */
  now(): number;
}

/** Which code a close during each handshake phase gets (the peer hung up on us). */
const CLOSED_IN: Record<Phase, string> = {
  dns: 'CLOSED',
  tcpConnect: 'ECONNRESET',
  tlsHandshake: 'CLOSED_DURING_TLS',
  wsUpgrade: 'CLOSED_DURING_UPGRADE',
  mqttConnack: 'CLOSED_BEFORE_CONNACK',
  held: 'PEER_CLOSED',
};

interface ExtraStamps {
  dnsDoneUs: number;
  tlsDoneUs: number;
  wsUpgradedUs: number;
}

export abstract class LinkedDevice implements LinkHandler {
  readonly deviceId: number;
  state: ConnState = 'connecting';
  phase: Phase = 'tcpConnect';
  /** µs since origin: when the attempt began (before DNS); NaN until reached for the rest. */
  socketOpenUs = NaN;
  tcpConnectedUs = NaN;
  /** Protocol ready: CONNACK for MQTT, the upgrade for a plain WebSocket device. */
  readyUs = NaN;
  /**
   * When the outstanding ping was sent; NaN when none is outstanding. Any byte received clears it:
   * a peer that sends anything is alive (docs/metrics.md, "Keepalive").
   */
  pingSentUs = NaN;
  /** Who closed a session we ended: 'peer' (server first, TIME_WAIT on its side) or 'us' (grace ran out). */
  endedBy: 'peer' | 'us' | null = null;
  /** Whether the TLS handshake resumed a session; null without TLS or before it finished. */
  tlsResumed: boolean | null = null;
  /**
   * The stamps only a name lookup, TLS or WebSocket has, made when the first of them is reached:
   * a held plain-TCP session does not carry three NaN doubles (16 bytes each) it never sets.
   */
  private extraStamps: ExtraStamps | null = null;
  protected link: Link | null = null;
  protected timer: NodeJS.Timeout | null = null;
  /** The connect timeout's judgement, queued after the loop has read the socket. */
  private judge: NodeJS.Immediate | null = null;
  readonly clock: Clock;
  private readonly scheme: TransportScheme;
  /** The phase the protocol on top starts in once the transport is ready (a getter: no field per device). */
  protected abstract get protocolPhase(): Phase;

  constructor(clock: Clock, deviceId: number, scheme: TransportScheme) {
    this.clock = clock;
    this.deviceId = deviceId;
    this.scheme = scheme;
  }

  /** µs since origin: DNS answered, TLS done, WebSocket upgraded; NaN until reached (or without that phase). */
  get dnsDoneUs(): number {
    return this.extraStamps?.dnsDoneUs ?? NaN;
  }
  get tlsDoneUs(): number {
    return this.extraStamps?.tlsDoneUs ?? NaN;
  }
  get wsUpgradedUs(): number {
    return this.extraStamps?.wsUpgradedUs ?? NaN;
  }

  private stamps(): ExtraStamps {
    if (this.extraStamps === null) this.extraStamps = { dnsDoneUs: NaN, tlsDoneUs: NaN, wsUpgradedUs: NaN };
    return this.extraStamps;
  }

  /** Per-phase durations; valid once the device is connected. Phases the attempt did not have are absent. */
  phaseTimes(): PhaseTimes {
    const tcpStart = Number.isNaN(this.dnsDoneUs) ? this.socketOpenUs : this.dnsDoneUs;
    const afterTls = Number.isNaN(this.tlsDoneUs) ? this.tcpConnectedUs : this.tlsDoneUs;
    const transportReady = Number.isNaN(this.wsUpgradedUs) ? afterTls : this.wsUpgradedUs;
    const p: PhaseTimes = { tcpConnectUs: this.tcpConnectedUs - tcpStart, serviceUs: this.readyUs - this.socketOpenUs };
    if (!Number.isNaN(this.dnsDoneUs)) p.dnsUs = this.dnsDoneUs - this.socketOpenUs;
    if (!Number.isNaN(this.tlsDoneUs)) p.tlsHandshakeUs = this.tlsDoneUs - this.tcpConnectedUs;
    if (!Number.isNaN(this.wsUpgradedUs)) p.wsUpgradeUs = this.wsUpgradedUs - afterTls;
    const connack = this.protocolPhase === 'mqttConnack' && !Number.isNaN(this.readyUs);
    if (connack) p.mqttConnackUs = this.readyUs - transportReady;
    return p;
  }

  /** Drops the connection at once (RST when possible). */
  reset(): void {
    if (this.link === null || this.state === 'closed') return;
    this.state = 'closing';
    this.endedBy = 'us';
    this.link.reset();
  }

  /** The engine found the held session dead (keepalive): it is lost with `f`, reported to the owner. */
  expire(f: Failure): void {
    if (this.state === 'connected') this.lose(f);
  }

  /**
   * A silent outage on the device's side: the link goes dark (nothing read, nothing written, the
   * socket stays open) and the device still believes it is connected until keepalive says otherwise.
   */
  silence(): void {
    if (this.state === 'connected') this.link?.blackhole();
  }

  /** Drops the connection at once. */
  abort(): void {
    if (this.link === null || this.state === 'closed') {
      // Still resolving DNS: nothing is open yet; report the end so owners can count it.
      if (this.state === 'connecting' && this.link === null) {
        this.state = 'closed';
        this.clearTimer();
        this.reportClosed();
      }
      return;
    }
    this.state = 'closing';
    this.endedBy = 'us';
    this.link.destroy();
  }

  // ---- the attempt ----

  protected start(spec: LinkSpec): void {
    this.socketOpenUs = this.clock.now();
    this.timer = setTimeout(onConnectTimeout, spec.connectTimeoutMs, this);
    if (net.isIP(spec.host) !== 0) {
      this.openLink(spec, spec.host);
      return;
    }
    const names = spec.names ?? EACH_ATTEMPT;
    const family = familyOf(spec.localAddress);
    // The target's answer while it is fresh: no lookup, no dns phase (as with an IP target).
    const kept = names.cached(spec.host, family, this.deviceId);
    if (kept !== null) {
      this.openLink(spec, kept);
      return;
    }
    this.phase = 'dns';
    // One closure per attempt that needs a name looked up; it is gone once DNS answers.
    names.ask(spec.host, family, this.deviceId, (err, address) => this.dnsAnswered(spec, err, address));
  }

  private dnsAnswered(spec: LinkSpec, err: NodeJS.ErrnoException | null, address: string): void {
    if (this.state !== 'connecting') return; // timed out or aborted meanwhile
    this.stamps().dnsDoneUs = this.clock.now();
    if (err !== null) {
      this.failAttempt({ ...classifyError(err, 'dns'), phase: 'dns' });
      return;
    }
    this.phase = 'tcpConnect';
    this.openLink(spec, address);
  }

  private openLink(spec: LinkSpec, address: string): void {
    this.phase = 'tcpConnect';
    try {
      this.link = TRANSPORTS[spec.scheme].open(
        { address, port: spec.port, hostname: spec.host, path: spec.path, localAddress: spec.localAddress },
        spec.ctx,
        this,
      );
    } catch (err) {
      // Synchronous failures (EMFILE on socket creation, a bad address) are still data.
      this.clearTimer();
      this.state = 'closed';
      const f = classifyError(err, 'tcpConnect');
      queueMicrotask(() => this.reportFailed(f));
    }
  }

  // ---- LinkHandler ----

  linkTcpConnected(): void {
    if (this.state !== 'connecting') return;
    this.tcpConnectedUs = this.clock.now();
    this.state = 'handshaking';
    const a = TRANSPORTS[this.scheme];
    this.phase = a.secure ? 'tlsHandshake' : a.websocket ? 'wsUpgrade' : this.protocolPhase;
  }

  linkTlsDone(resumed: boolean): void {
    if (this.state !== 'handshaking') return;
    this.stamps().tlsDoneUs = this.clock.now();
    this.tlsResumed = resumed;
    this.phase = TRANSPORTS[this.scheme].websocket ? 'wsUpgrade' : this.protocolPhase;
  }

  linkWsUpgraded(): void {
    if (this.state !== 'handshaking') return;
    this.stamps().wsUpgradedUs = this.clock.now();
    this.phase = this.protocolPhase;
  }

  abstract linkReady(): void;
  abstract linkData(chunk: Buffer): void;

  linkPong(): void {
    this.pingSentUs = NaN;
  }

  linkError(err: unknown, failure: Failure | null): void {
    if (this.state === 'closed' || this.state === 'closing') return; // part of a close we chose
    const f = failure ?? classifyError(err, this.phase);
    if (this.state === 'connected') this.lose(f);
    else this.failAttempt(f);
  }

  linkClose(): void {
    this.clearTimer();
    const was = this.state;
    this.state = 'closed';
    this.link = null;
    if (was === 'connecting' || was === 'handshaking') {
      this.reportFailed({ origin: 'network', phase: this.phase, code: CLOSED_IN[this.phase] });
    } else if (was === 'connected') {
      this.reportLost({ origin: 'network', phase: 'held', code: 'PEER_CLOSED' });
    } else if (was === 'closing') {
      if (this.endedBy === null) this.endedBy = 'peer';
      this.reportClosed();
    }
  }

  // ---- for subclasses ----

  protected abstract reportFailed(f: Failure): void;
  protected abstract reportLost(f: Failure): void;
  protected abstract reportClosed(): void;

  /** The transport and protocol handshakes are done. */
  protected markReady(): void {
    this.clearTimer();
    this.readyUs = this.clock.now();
    this.state = 'connected';
    this.phase = 'held';
  }

  /** Reports the attempt's failure once; whatever the link says afterwards is ignored. */
  protected failAttempt(f: Failure): void {
    this.clearTimer();
    this.state = 'closed';
    this.dropLink();
    this.reportFailed(f);
  }

  protected lose(f: Failure): void {
    this.clearTimer();
    this.state = 'closed';
    this.dropLink();
    this.reportLost(f);
  }

  /** Fails the attempt or loses the session with a protocol violation by the peer. */
  protected protocolFailure(code: string): void {
    const f: Failure = { origin: 'protocol', phase: this.state === 'connected' ? 'held' : this.phase, code };
    if (this.state === 'connected') this.lose(f);
    else if (this.state === 'connecting' || this.state === 'handshaking') this.failAttempt(f);
    else this.link?.destroy();
  }

  /** Ends a session we asked to end, forcing it after `graceMs` if the server never closes. */
  protected closeAfter(graceMs: number): void {
    this.state = 'closing';
    this.clearTimer();
    this.timer = setTimeout(onCloseGrace, graceMs, this);
  }

  handleConnectTimeout(): void {
    this.timer = null;
    if (this.state !== 'connecting' && this.state !== 'handshaking') return;
    // Judged once the loop has read the socket (an immediate runs after the poll phase): an answer
    // that arrived while herd's worker was busy counts, so herd's stall is not the target's timeout.
    // Still unanswered, it failed in the phase the time ran out in, not one that read moved it to.
    this.judge = setImmediate(onConnectTimeoutRead, this, this.phase);
  }

  handleConnectTimeoutRead(phase: Phase): void {
    this.judge = null;
    if (this.state !== 'connecting' && this.state !== 'handshaking') return;
    this.failAttempt({ origin: 'timeout', phase, code: 'CONNECT_TIMEOUT' });
  }

  handleCloseGrace(): void {
    this.timer = null;
    this.endedBy = 'us';
    this.link?.destroy();
  }

  protected clearTimer(): void {
    if (this.judge !== null) {
      clearImmediate(this.judge);
      this.judge = null;
    }
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private dropLink(): void {
    const l = this.link;
    this.link = null;
    l?.destroy();
  }
}

function onConnectTimeout(d: LinkedDevice): void {
  d.handleConnectTimeout();
}
function onConnectTimeoutRead(d: LinkedDevice, phase: Phase): void {
  d.handleConnectTimeoutRead(phase);
}
function onCloseGrace(d: LinkedDevice): void {
  d.handleCloseGrace();
}
