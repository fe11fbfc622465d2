/**
 * The runner's side of server steering (issue 16): after an attempt fails or a session is lost it
 * reads the connection's last MQTT 5 signal, counts it, and applies what src/engine/steering.ts
 * decides (an extra backoff step, a move to a referenced target); on connect it gives a device
 * that adopted a Server Keep Alive its own keepalive wheel. The session listeners call it
 * (session-listeners.ts: backoffRestart, serverSignals, keepalive).
 */
import type { Device } from '../protocols/device.js';
import type { Recorder } from '../metrics/recorder.js';
import type { ResolvedScenario } from '../results/resolved-scenario.js';
import type { DeviceTable } from './device-table.js';
import { KeepaliveWheel, keepaliveDue, keepaliveJudge, type KeepaliveFleet } from './keepalive.js';
import { restartsBackoff } from './reconnect.js';
import { SPEC_STEERING, steer, type SteeringRules } from './steering.js';

export class DeviceSteering {
  private readonly rules: SteeringRules[];
  /** Per slot: the keepalive (µs) it adopted from the server; 0 = its cohort's. */
  private readonly adoptedUs: Float64Array;
  private readonly wheels = new Map<number, KeepaliveWheel>();

  constructor(
    private readonly scenario: ResolvedScenario,
    private readonly runTargets: readonly (readonly string[])[],
    private readonly rec: Recorder,
    private readonly dev: DeviceTable,
  ) {
    this.rules = scenario.cohorts.map(
      (c) => (c.reconnect.policy === 'none' ? undefined : c.reconnect.serverSignals) ?? SPEC_STEERING,
    );
    this.adoptedUs = new Float64Array(dev.session.length);
  }

  /**
   * A session of `connectedForUs` ended (0 = one just began): a policy with resetAfter (SDK
   * presets) restarts its backoff only after a long enough session; others always do.
   */
  restartBackoff(slot: number, connectedForUs: number): void {
    const policy = this.scenario.cohorts[this.dev.cohort(slot)]?.reconnect;
    if (policy === undefined || !restartsBackoff(policy, connectedForUs)) return;
    this.dev.retries[slot] = 0;
    this.dev.prevDelayUs[slot] = 0;
  }

  /** An attempt failed or a session ended on the server's word: count it, back off, maybe move. */
  onEnded(slot: number, c: Device): void {
    const dev = this.dev;
    const sig = c.serverSignal ?? null;
    // The accepting CONNACK was counted on connect; a session lost without a word has no signal.
    if (sig === null || (sig.packet === 'connack' && sig.reasonCode === 0)) return;
    const cohort = dev.cohort(slot);
    const own = this.scenario.cohorts[cohort]?.targets ?? null;
    const run = this.runTargets[cohort] ?? [];
    const s = steer(sig, this.rules[cohort] ?? SPEC_STEERING, own ?? run);
    this.rec.signal(s.key);
    if (sig.packet === 'disconnect' && sig.reasonCode === 0x8e) this.rec.signal('takenOver');
    if (s.backoffSteps > 0) dev.retries[slot] = (dev.retries[slot] as number) + s.backoffSteps;
    if (s.referenceRefused) this.rec.signal('referenceRefused');
    if (s.moveTo !== null) {
      this.rec.signal('referenceFollowed');
      // The device-table picks run targets by (id + targetIndex), a failover list by targetIndex.
      const len = own?.length ?? run.length;
      dev.targetIndex[slot] = own !== null ? s.moveTo : (((s.moveTo - (dev.id(slot) % len)) % len) + len) % len;
    }
  }

  /** On connect: true when the device pings on a Server Keep Alive (its own wheel, not the cohort's). */
  onConnected(slot: number, c: Device, cohort: number, session: number, nowUs: number): boolean {
    const sig = c.serverSignal ?? null;
    this.adoptedUs[slot] = 0;
    if (sig === null) return false;
    const s = steer(sig, this.rules[cohort] ?? SPEC_STEERING, []);
    const notable =
      sig.serverKeepAliveS !== null ||
      sig.serverReference !== null ||
      sig.sessionExpiryS !== null ||
      sig.maximumQoS !== null ||
      sig.retainAvailable !== null;
    if (notable) this.rec.signal(s.key);
    const own = this.scenario.cohorts[cohort]?.device.keepaliveUs;
    if (s.keepaliveUs === null || s.keepaliveUs === own || s.keepaliveUs === 0) return false;
    this.rec.signal('keepaliveAdopted');
    this.adoptedUs[slot] = s.keepaliveUs;
    this.wheel(s.keepaliveUs).add(slot, session, nowUs);
    return true;
  }

  /** Plays the turns of devices on adopted keepalives by the same rule as the cohort wheels (keepalive.ts). */
  keepaliveDue(nowUs: number, device: (slot: number) => Device | null, session: (slot: number) => number): void {
    for (const [us, wheel] of this.wheels) keepaliveDue([wheel], this.adopted(us, device, session), nowUs);
  }

  /** Judges their suspects as keepaliveJudge does; `dead` as for the cohort wheels. */
  keepaliveJudge(
    nowUs: number,
    device: (slot: number) => Device | null,
    session: (slot: number) => number,
    dead: (slot: number) => void,
  ): void {
    for (const [us, wheel] of this.wheels)
      keepaliveJudge([wheel], this.adopted(us, device, session), nowUs, (slot) => dead(slot));
  }

  /** The fleet as the wheel of keepalive `us` sees it: a slot that reconnected without it since is not its. */
  private adopted(
    us: number,
    device: (slot: number) => Device | null,
    session: (slot: number) => number,
  ): KeepaliveFleet {
    return { device: (slot: number) => (this.adoptedUs[slot] === us ? device(slot) : null), session };
  }

  private wheel(keepaliveUs: number): KeepaliveWheel {
    let w = this.wheels.get(keepaliveUs);
    if (!w) {
      w = new KeepaliveWheel(keepaliveUs);
      this.wheels.set(keepaliveUs, w);
    }
    return w;
  }
}
