#!/usr/bin/env node
// How much a connect costs in Node's thread as sockets pile up on one source address.
// Node binds the source address before connecting (no IP_BIND_ADDRESS_NO_PORT), so the kernel
// searches for a free port on every bind. Prints µs per connect every 2,000 sockets, for one
// source address, for the same count spread over four, and for one address with an explicit port
// per socket (what herd's JS transports do since src/protocols/transports/source-ports.ts: the
// ports handed out in order from the start of the ephemeral range; a port some other socket holds
// fails that one connect, counted). Loopback only; bounded; ends what it starts by PID.
// Usage: node bench/experiments/bind-cost.js [--count 18000]
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

const [firstPort] = (await import('node:fs'))
  .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
  .trim()
  .split(/\s+/)
  .map(Number);

async function measure(label, sources, explicitPorts = false) {
  const socks = [];
  let failed = 0;
  for (let i = 0; i < count; i += 2000) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 2000; k++) {
      const o = { host: '127.0.0.1', port, localAddress: sources[socks.length % sources.length] };
      if (explicitPorts) o.localPort = firstPort + socks.length;
      const s = net.connect(o);
      s.on('error', () => failed++);
      socks.push(s);
    }
    await new Promise((r) => setImmediate(r));
    const us = Number(process.hrtime.bigint() - t0) / 2000 / 1000;
    console.log(
      `${label}: ${String(i + 2000).padStart(6)} sockets, ${Math.round((i + 2000) / sources.length)} per address: ${us.toFixed(1)} µs per connect${failed > 0 ? ` (${failed} failed)` : ''}`,
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
await measure('one address, explicit ports', [`127.0.5.${salt}`], true);
target.kill('SIGTERM');
