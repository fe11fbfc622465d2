/**
 * Warms a worker's connect path before the run origin is placed, so a spike at t = 0 is measured
 * at the speed of the tenth second, not at the speed of cold code (issue 17): the device code is
 * loaded, compiled and exercised by real MQTT handshakes against a throwaway listener this worker
 * opens on loopback — never against the target, which must see only the plan's traffic.
 */
import { performance } from 'node:perf_hooks';
import type { Failure } from '../protocols/classify.js';
import type { Device, DeviceOwner } from '../protocols/device.js';
import { prepareTarget } from '../protocols/kinds.js';
import { openMqtt } from '../protocols/mqtt/kind.js';
import { buildConnect } from '../protocols/mqtt/connect-packet.js';
import { Recorder } from '../metrics/recorder.js';
import { ThrowawayListener } from './warm-listener.js';

export interface WarmUpResult {
  /** Handshakes completed against the throwaway listener. */
  handshakes: number;
  elapsedMs: number;
}

/** Enough rounds for V8 to optimise the hot functions; small enough to cost well under a second. */
const DEFAULT_HANDSHAKES = 512;
const IN_FLIGHT = 64;
const DEADLINE_MS = 3_000;

/** Runs `handshakes` real MQTT 3.1.1 handshakes over TCP, IN_FLIGHT at a time, then ends them cleanly. */
export async function warmConnectPath(handshakes = DEFAULT_HANDSHAKES): Promise<WarmUpResult> {
  const started = performance.now();
  const listener = await ThrowawayListener.open();
  const target = prepareTarget('mqtt', `mqtt://127.0.0.1:${listener.port}`);
  const rec = new Recorder(['warm-up']);
  const packets = Array.from({ length: IN_FLIGHT }, (_, i) =>
    buildConnect({
      clientId: `herd-warm-${i}`,
      username: null,
      password: null,
      keepaliveS: 0,
      clean: true,
      protocolVersion: 4,
    }),
  );
  let opened = 0;
  let finished = 0;
  let stopped = false;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      stopped = true;
      resolve();
    };
    const deadline = setTimeout(stop, DEADLINE_MS);
    const next = (): void => {
      if (stopped) return;
      if (finished >= handshakes) {
        clearTimeout(deadline);
        stop();
      } else if (opened < handshakes) open();
    };
    const done = (): void => {
      finished++;
      next();
    };
    const owner: DeviceOwner = {
      now: () => performance.now() * 1000,
      onConnected(d: Device) {
        const ph = d.phaseTimes();
        rec.record('connect.total', ph.serviceUs);
        if (ph.tcpConnectUs !== undefined) rec.record('phase.tcpConnect', ph.tcpConnectUs);
        d.end();
      },
      onFailed: (_d: Device, _f: Failure) => done(),
      onLost: (_d: Device, _f: Failure) => done(),
      onClosed: () => done(),
    };
    const open = (): void => {
      const slot = opened++;
      const connectPacket = packets[slot % IN_FLIGHT] as Buffer;
      const o = { deviceId: slot, localAddress: undefined, connectTimeoutMs: DEADLINE_MS, maxPacketBytes: 4096 };
      openMqtt(target, { ...o, connectPacket }, owner);
    };
    for (let i = 0; i < Math.min(IN_FLIGHT, handshakes); i++) open();
  });
  // Past the deadline, whatever is still open is cut: nothing of the warm-up outlives it.
  await listener.close();
  return { handshakes: finished, elapsedMs: performance.now() - started };
}
