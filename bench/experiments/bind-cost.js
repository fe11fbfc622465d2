#!/usr/bin/env node
// How much a connect costs in Node's thread as sockets pile up on one source address.
// Node binds the source address before connecting (no IP_BIND_ADDRESS_NO_PORT), so the kernel
// searches for a free port on every bind. Prints µs per connect every 2,000 sockets, for one
// source address and for the same count spread over four. Loopback only; bounded; ends what it
// starts by PID. Usage: node bench/experiments/bind-cost.js [--count 18000]
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';

const count = Number(process.argv[process.argv.indexOf('--count') + 1] || 18000);
if (!Number.isInteger(count) || count < 2000 || count > 19000) {
  console.error('--count: expected a whole number from 2000 to 19000');
  process.exit(2);
}
const herd = fileURLToPath(new URL('../../bin/herd.js', import.meta.url));
const target = spawn(process.execPath, [herd, 'target', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  target.stdout.on('data', (d) => {
    out += d;
    const m = /mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  setTimeout(() => reject(new Error('herd target did not start')), 10_000).unref();
});

async function measure(label, sources) {
  const socks = [];
  for (let i = 0; i < count; i += 2000) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 2000; k++) {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: sources[socks.length % sources.length] });
      s.on('error', () => {});
      socks.push(s);
    }
    await new Promise((r) => setImmediate(r));
    const us = Number(process.hrtime.bigint() - t0) / 2000 / 1000;
    console.log(
      `${label}: ${String(i + 2000).padStart(6)} sockets, ${Math.round((i + 2000) / sources.length)} per address: ${us.toFixed(1)} µs per connect`,
    );
    await new Promise((r) => setTimeout(r, 300));
  }
  // End so the server closes first: TIME_WAIT stays on its side, not on these addresses.
  for (const s of socks) s.end();
  await new Promise((r) => setTimeout(r, 2000));
  for (const s of socks) s.destroy();
}

const salt = 100 + (process.pid % 100);
await measure('one address ', [`127.0.3.${salt}`]);
await measure(
  'four addresses',
  [0, 1, 2, 3].map((k) => `127.0.4.${salt + k}`),
);
target.kill('SIGTERM');
