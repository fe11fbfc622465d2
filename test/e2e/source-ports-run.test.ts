/**
 * Explicit source ports through the real CLI: a run spread over three loopback source addresses
 * with two workers (so both workers bind every address) binds each connection to the next port of
 * its worker's half of the ephemeral range on its address, as the broker (aedes, here) sees them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceIndex } from '../../src/engine/device-table.js';
import { idsFor } from '../../src/plan/plan.js';
import { runHerd } from '../helpers/cli.js';

const SOURCES = ['127.0.0.61', '127.0.0.62', '127.0.0.63'];
const DEVICES = 40;
const WORKERS = 2;

let broker: Aedes;
let server: net.Server;
let port = 0;
const seen: string[] = [];

beforeAll(async () => {
  broker = await Aedes.createBroker();
  broker.on('connectionError', () => {});
  server = net.createServer((s) => {
    seen.push(`${s.remoteAddress}:${s.remotePort}`);
    s.on('error', () => {});
    broker.handle(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise<void>((r) => broker.close(() => r()));
});

/** Whether nothing on this machine holds `address:p` (a listener on 0.0.0.0 would). */
async function bindable(address: string, p: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(p, address, () => s.close(() => resolve(true)));
  });
}

describe('source ports through herd run', () => {
  it('each worker binds the next free ports of its own half of the range on each source address', async () => {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    // Both workers bind each address: worker 0 from the first half of the range, worker 1 from the
    // second, each taking its half's first free ports in order.
    const half = Math.floor(((hi as number) - (lo as number) + 1) / 2);
    const expected = new Map<string, number[]>();
    for (let w = 0; w < WORKERS; w++) {
      const first = (lo as number) + w * half;
      const next = new Map<string, number>();
      for (const id of idsFor(DEVICES, { index: 0, count: 1 }, { index: w, count: WORKERS })) {
        const ip = SOURCES[sourceIndex(id, 1, 1, SOURCES.length)] as string;
        let p = next.get(ip) ?? first;
        while (!(await bindable(ip, p))) p++;
        next.set(ip, p + 1);
        expected.set(ip, [...(expected.get(ip) ?? []), p]);
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'herd-source-ports-'));
    writeFileSync(
      join(dir, 's.yaml'),
      `name: source-ports\ndevices: ${DEVICES}\ndevice: { engine: js, keepalive: 30s }\n` +
        'waves:\n  - { type: ramp, over: 1s }\nhold: 1s\n',
    );
    const res = await runHerd([
      'run',
      join(dir, 's.yaml'),
      '--target',
      `mqtt://127.0.0.1:${port}`,
      '--source-ips',
      SOURCES.join(','),
      '--workers',
      String(WORKERS),
      '--out',
      join(dir, 'out'),
      '--allow-saturated',
      '-q',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    for (const ip of SOURCES) {
      const ports = seen
        .filter((a) => a.startsWith(`${ip}:`))
        .map((a) => Number(a.slice(ip.length + 1)))
        .sort((a, b) => a - b);
      expect(ports, ip).toEqual([...(expected.get(ip) ?? [])].sort((a, b) => a - b));
    }
  });
});
