#!/usr/bin/env node
/**
 * The floor of a plain net.Socket MQTT connector, to tell herd's own costs from Node's: N
 * sessions with K handshakes in flight against a private Mosquitto, one pre-built CONNECT per
 * device, a 4-byte CONNACK check, every session held. Each variant runs in its own process
 * (run with --expose-gc) and prints CPU µs per handshake and bytes per held connection.
 *
 *   node bench/experiments/socket-floor.js [--count 10000] [--inflight 64]
 *
 * Variants: `data` (a 'data' listener: Node allocates a fresh buffer per read), `onread` (one
 * shared read buffer for all sockets, net.connect({ onread })). Not part of `npm run bench`; it
 * backs the hot-path notes in docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { findMosquitto, mosquittoFactory } from '../lib/targets.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? String(args[i + 1]) : dflt;
};

if (args[0] === '--child') {
  await child(JSON.parse(String(args[1])));
} else {
  await parent();
}

async function parent() {
  const bin = findMosquitto();
  if (bin === null) {
    console.log('SKIP: mosquitto is not installed');
    return;
  }
  const count = Number(opt('--count', '10000'));
  const inflight = Number(opt('--inflight', '64'));
  const f = mosquittoFactory(bin);
  let base = 100;
  for (const variant of ['data', 'onread', 'data', 'onread']) {
    const t = await f.start();
    try {
      const sources = [`127.0.0.${base++}`, `127.0.0.${base++}`];
      const out = execFileSync(
        process.execPath,
        [
          '--expose-gc',
          fileURLToPath(import.meta.url),
          '--child',
          JSON.stringify({ variant, count, inflight, port: t.port, sources }),
        ],
        { encoding: 'utf8' },
      );
      console.log(out.trim());
    } finally {
      await t.stop();
    }
  }
}

async function child({ variant, count, inflight, port, sources }) {
  const gc = /** @type {() => void} */ (globalThis.gc);
  const packets = [];
  for (let i = 0; i < count; i++) {
    const id = Buffer.from(`floor-${variant}-${process.pid}-${i}`);
    const head = Buffer.from([
      0x10,
      12 + id.length,
      0,
      4,
      0x4d,
      0x51,
      0x54,
      0x54,
      4,
      2,
      0x02,
      0x58,
      id.length >> 8,
      id.length & 0xff,
    ]);
    packets.push(Buffer.concat([head, id]));
  }
  const shared = Buffer.allocUnsafe(64 * 1024);
  const sockets = [];
  gc();
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let active = 0;
  let ok = 0;
  let bad = 0;
  await new Promise((resolve) => {
    const done = () => {
      active--;
      if (next < count) launch();
      else if (active === 0) resolve(undefined);
    };
    const onAck = (s, buf, n) => {
      if (s.got) return;
      s.got = true;
      if (n >= 4 && buf[0] === 0x20 && buf[3] === 0) ok++;
      else bad++;
      done();
    };
    function launch() {
      while (active < inflight && next < count) {
        const i = next++;
        active++;
        /** @type {net.NetConnectOpts & { onread?: object }} */
        const o = { host: '127.0.0.1', port, noDelay: true, localAddress: sources[i % sources.length] };
        if (variant === 'onread')
          o.onread = {
            buffer: shared,
            callback: function (n, buf) {
              onAck(this, buf, n);
            },
          };
        const s = /** @type {net.Socket & { got?: boolean }} */ (net.connect(o));
        s.once('connect', function () {
          this.write(packets[i]);
        });
        if (variant === 'data')
          s.on('data', function (b) {
            onAck(this, b, b.length);
          });
        s.on('error', () => {
          if (!s.got) {
            s.got = true;
            bad++;
            done();
          }
        });
        sockets.push(s);
      }
    }
    launch();
  });
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  gc();
  await new Promise((r) => setTimeout(r, 300));
  gc();
  const held = process.memoryUsage();
  const per = (k) => Math.round((held[k] - before[k]) / ok);
  console.log(
    JSON.stringify({
      variant,
      count,
      ok,
      bad,
      perS: Math.round(ok / wallS),
      cpuUsPerHandshake: Math.round((cpu.user + cpu.system) / ok),
      rssBytesPerConn: per('rss'),
      heapUsedBytesPerConn: per('heapUsed'),
      heapTotalBytesPerConn: per('heapTotal'),
      externalBytesPerConn: per('external'),
    }),
  );
  // End politely: DISCONNECT and let the broker close first.
  for (const s of sockets) if (!s.destroyed) s.end(Buffer.from([0xe0, 0]));
  await new Promise((r) => setTimeout(r, 1000));
  for (const s of sockets) s.destroy();
}
