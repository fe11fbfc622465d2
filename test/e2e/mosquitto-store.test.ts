/**
 * Issue 24, against a real broker: Mosquitto killed with SIGKILL mid-run and restarted on the same
 * port while a fleet publishes QoS 1 telemetry. With the MQTT.js preset the devices resend what was
 * never acknowledged, so nothing ends never acknowledged, and what herd calls lost by the cloud is
 * checked against an independent subscriber (an mqtt.js client in this process, subscribed to every
 * device's topic, recording each message id): the messages the fleet published that Mosquitto never
 * delivered to it. With `publish.store: none` the messages in flight at the kill are never
 * acknowledged, not lost by the cloud: the gate keeps the devices' last PUBLISHes from Mosquitto
 * just before the kill, so there are some (counted by the gate, not left to timing).
 *
 * The devices reach Mosquitto through a gate in this process that holds their new connections after
 * the restart until the subscriber has subscribed again, so the subscriber misses no resend
 * (synchronised on its SUBACK, never on a sleep).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePayload } from '../../src/protocols/payload.js';
import type { Results } from '../../src/results/types.js';
import { externalProgram } from '../helpers/external.js';
import { LoggedMosquitto } from '../helpers/mosquitto-log.js';
import { runHerd, expectExit } from '../helpers/cli.js';

const mosquittoBin = externalProgram('mosquitto');
const DEVICES = 40;

/** TCP gate: holds each new connection until `open`, then pipes it to the broker. */
class Gate {
  private server: net.Server | null = null;
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => {};
  private readonly sockets = new Set<net.Socket>();
  /** While set, the devices' PUBLISH bytes are read and kept back: they never reach the broker. */
  private holding = false;
  private heldPublishes = 0;
  private heldWaiter: { n: number; resolve: () => void } | null = null;
  port = 0;

  constructor(private readonly upstreamPort: number) {}

  async start(): Promise<void> {
    this.server = net.createServer((down) => {
      down.pause();
      this.sockets.add(down);
      down.on('close', () => this.sockets.delete(down));
      down.on('error', () => {});
      void this.opened.then(() => {
        if (down.destroyed) return;
        const up = net.connect(this.upstreamPort, '127.0.0.1');
        this.sockets.add(up);
        up.on('close', () => {
          this.sockets.delete(up);
          down.destroy();
        });
        up.on('error', () => {});
        down.on('close', () => up.destroy());
        up.on('connect', () => {
          down.on('data', (chunk: Buffer) => {
            if (!this.holding) {
              up.write(chunk);
            } else if (chunk[0] !== undefined && chunk[0] >> 4 === 3) {
              this.heldPublishes++;
              this.wakeHeld();
            }
          });
          up.pipe(down);
          down.resume();
        });
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server?.address() as net.AddressInfo).port;
  }

  /** Keeps the devices' bytes from the broker from now on; resolves once `n` PUBLISHes were kept back. */
  holdPublishes(n: number): Promise<void> {
    this.holding = true;
    return new Promise<void>((resolve) => {
      this.heldWaiter = { n, resolve };
      this.wakeHeld();
    });
  }

  private wakeHeld(): void {
    if (this.heldWaiter !== null && this.heldPublishes >= this.heldWaiter.n) this.heldWaiter.resolve();
  }

  shut(): void {
    this.opened = new Promise<void>((r) => (this.release = r));
  }

  open(): void {
    this.holding = false;
    this.release();
  }

  async stop(): Promise<void> {
    this.open();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** The independent subscriber: every message id (device:seq) Mosquitto delivered to it. */
function subscriber(url: string) {
  const seen = new Set<string>();
  let subscriptions = 0;
  let waiters: { n: number; subs: number; resolve: () => void }[] = [];
  const wake = () => {
    waiters = waiters.filter((w) => (seen.size >= w.n && subscriptions >= w.subs ? (w.resolve(), false) : true));
  };
  const client = mqtt.connect(url, { clientId: 'independent', clean: true, reconnectPeriod: 20, keepalive: 30 });
  client.on('connect', () => {
    client.subscribe('herd/+/+', { qos: 1 }, () => {
      subscriptions++;
      wake();
    });
  });
  client.on('error', () => {});
  let drained: (() => void) | null = null;
  client.on('message', (topic, payload) => {
    if (topic === 'herd/test/sentinel') drained?.();
    const s = decodePayload(payload);
    if (s !== null) seen.add(`${s.deviceId}:${s.seq}`);
    wake();
  });
  return {
    seen,
    /** Resolves once `n` distinct messages arrived and the subscription was made `subs` times. */
    until: (n: number, subs: number) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, subs, resolve });
        wake();
      }),
    /**
     * Everything Mosquitto queued for the subscriber has arrived: a message of ours published after
     * the run comes back behind them (one outgoing queue per client, delivered in order).
     */
    drain: () =>
      new Promise<void>((resolve) => {
        drained = resolve;
        client.publish('herd/test/sentinel', 'end', { qos: 1 });
      }),
    end: () => new Promise<void>((r) => client.end(true, {}, () => r())),
  };
}

function scenario(port: number, store: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'herd-store-')), 's.yaml');
  writeFileSync(
    file,
    [
      'name: mosquitto-store',
      `target: mqtt://127.0.0.1:${port}`,
      `devices: ${DEVICES}`,
      `device: { publish: { every: 100ms, qos: 1${store === '' ? '' : `, store: ${store}`} } }`,
      'reconnect: { preset: mqttjs-default }',
      'waves:',
      '  - { type: ramp, over: 1s }',
      'hold: 10s',
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * `inFlight`: before the kill the gate keeps the devices' next PUBLISHes from Mosquitto (waiting
 * until it holds DEVICES of them), so messages are in flight at the kill whatever the scheduling;
 * without it, whether any is in flight at the SIGKILL is luck (a PUBACK takes well under 1 ms).
 */
async function runThroughKill(
  store: string,
  inFlight = false,
): Promise<{ d: NonNullable<Results['delivery']>; seen: Set<string> }> {
  const b = (broker = new LoggedMosquitto(mosquittoBin as string));
  await b.start();
  const g = (gate = new Gate(b.port));
  await g.start();
  const sub = subscriber(b.url);
  await sub.until(0, 1);
  const file = scenario(g.port, store);
  const run = runHerd(['run', file, '--out', join(file, '..', 'out'), '-q', '--allow-saturated']);
  // Every device publishing: 4 rounds of messages seen, then the crash.
  await sub.until(DEVICES * 4, 1);
  if (inFlight) await g.holdPublishes(DEVICES);
  g.shut();
  await b.kill();
  await b.start();
  await sub.until(0, 2);
  g.open();
  const res = await run;
  expectExit(res, 0);
  await sub.drain();
  await sub.end();
  const path = /^results: (.+)$/m.exec(res.stdout)?.[1] as string;
  const r = JSON.parse(readFileSync(path, 'utf8')) as Results;
  return { d: r.delivery as NonNullable<Results['delivery']>, seen: sub.seen };
}

let broker: LoggedMosquitto | null = null;
let gate: Gate | null = null;

describe.skipIf(mosquittoBin === null)('device stores against Mosquitto killed and restarted', () => {
  afterEach(async () => {
    await gate?.stop();
    await broker?.stop();
    gate = null;
    broker = null;
  });

  it('MQTT.js preset: nothing never acknowledged; lost by the cloud = what Mosquitto never delivered', async () => {
    const { d, seen } = await runThroughKill('');
    if (process.env.HERD_SHOW_FIGURES === '1')
      console.log(
        `mqttjs: published ${d.published} · delivered ${d.delivered} · lost by cloud ${d.lostByCloud} · never acked ${d.neverAcknowledged} · resent ${d.resent} · dup by resend ${d.duplicatedByResend} · subscriber saw ${seen.size}`,
      );
    expect(d.resent).toBeGreaterThan(0);
    expect(d.neverAcknowledged).toBe(0);
    expect(d.droppedByDevice).toBe(0);
    expect(d.delivered + d.lostByCloud).toBe(d.published);
    // Every message was published once and, resends included, acknowledged: the subscriber's gaps
    // are the messages Mosquitto acknowledged and never delivered.
    expect(d.lostByCloud).toBe(d.published - seen.size);
  }, 90_000);

  it('publish.store none: the messages in flight at the kill are never acknowledged, not lost by the cloud', async () => {
    const { d, seen } = await runThroughKill('none', true);
    if (process.env.HERD_SHOW_FIGURES === '1')
      console.log(
        `none: published ${d.published} · delivered ${d.delivered} · lost by cloud ${d.lostByCloud} · never acked ${d.neverAcknowledged} · dropped ${d.droppedByDevice} · subscriber saw ${seen.size}`,
      );
    expect(d.resent).toBe(0);
    expect(d.neverAcknowledged).toBeGreaterThan(0);
    expect(d.delivered + d.lostByCloud + d.neverAcknowledged + d.droppedByDevice).toBe(d.published);
    // Of the messages that reached Mosquitto and were acknowledged, the subscriber's gaps again.
    expect(d.lostByCloud).toBe(d.sent - d.neverAcknowledged - seen.size);
    expect(d.lostByCloud).toBe(0);
  }, 90_000);
});
