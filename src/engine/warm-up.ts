/**
 * Warms a worker's connect path before the run origin is placed, so a spike at t = 0 is measured
 * at the speed of the tenth second, not at the speed of cold code (issue 17): the device code is
 * loaded, compiled and exercised by real MQTT handshakes against a throwaway listener this worker
 * opens on loopback — never against the target, which must see only the plan's traffic.
 */
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Failure } from '../protocols/classify.js';
import type { Device, DeviceOwner } from '../protocols/device.js';
import { prepareTarget } from '../protocols/kinds.js';
import { openMqtt } from '../protocols/mqtt/kind.js';
import { buildConnect } from '../protocols/mqtt/connect-packet.js';
import { Recorder } from '../metrics/recorder.js';

export interface WarmUpResult {
  /** Handshakes completed against the throwaway listener. */
  handshakes: number;
  elapsedMs: number;
}

/** Enough rounds for V8 to optimise the hot functions; small enough to cost well under a second. */
const DEFAULT_HANDSHAKES = 512;
const IN_FLIGHT = 64;
const DEADLINE_MS = 3_000;
const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
/** MQTT 5: the same, with an empty property list. */
const CONNACK_OK_V5 = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);

/**
 * The CONNACK that accepts the CONNECT at the start of `chunk`: MQTT 5's when its protocol level
 * (after the fixed header and the 6-byte protocol name) is 5. Only herd's own CONNECTs come here.
 */
export function connackFor(chunk: Buffer): Buffer {
  let k = 1;
  while (k < 5 && ((chunk[k] ?? 0) & 0x80) !== 0) k++;
  return chunk[k + 7] === 5 ? CONNACK_OK_V5 : CONNACK_OK;
}
const DISCONNECT = 0xe0;

/** A listener that accepts any CONNECT (3.1.1 or 5) and closes first on DISCONNECT (TIME_WAIT stays on its side). */
export function throwawayListener(): Promise<{ server: net.Server; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.setNoDelay(true);
    s.on('error', () => s.destroy());
    s.on('data', (chunk: Buffer) => {
      if (chunk[0] === DISCONNECT || chunk.includes(DISCONNECT, 2)) s.destroy();
      else s.write(connackFor(chunk));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, sockets }));
  });
}

/** Runs `handshakes` real MQTT 3.1.1 handshakes over TCP, IN_FLIGHT at a time, then ends them cleanly. */
export async function warmConnectPath(handshakes = DEFAULT_HANDSHAKES): Promise<WarmUpResult> {
  const started = performance.now();
  const { server, sockets } = await throwawayListener();
  const port = (server.address() as net.AddressInfo).port;
  const target = prepareTarget('mqtt', `mqtt://127.0.0.1:${port}`);
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
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { handshakes: finished, elapsedMs: performance.now() - started };
}
