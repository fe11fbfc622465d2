/**
 * The native core's µs wake-up (native/src/wake.c), the scheduler's timer wherever the addon is built
 * (a wake-only core carries it for JavaScript-path devices until a device core exists):
 * it fires once, never before the µs it was armed for; a later arm replaces an earlier one; while
 * armed it holds the process alive, as a Node timer does, and once disarmed it does not — each
 * checked in a child process that has nothing else to keep it alive.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADDON_PATH, loadNative } from '../../src/protocols/native/binding.js';
import { closeNativeCore, nativeWake, openNativeDevice } from '../../src/protocols/native/core.js';
import { nativeBuilt } from '../helpers/native.js';
import { RecordingOwner } from './protocol-owner.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Runs `body` in a child with `b` (the addon) and `h` (a core whose onWake prints "woke <µs since arm>"). */
function child(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(tmpdir(), `wake-${Math.random().toString(36).slice(2)}.cjs`);
  writeFileSync(
    file,
    `const b = require(${JSON.stringify(ADDON_PATH)});
let armedAt = 0;
const h = b.create(() => {}, 1024, () => process.stdout.write('woke ' + Math.round(b.nowUs() - armedAt) + '\\n'));
const arm = (us) => { armedAt = b.nowUs(); b.wakeAfter(h, us); };
${body}
`,
  );
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    cleanups.push(() => p.exitCode === null && p.kill('SIGKILL'));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A loopback listener that accepts and never answers, and an owner with its wake-up (closed after the test). */
async function silentOwner(): Promise<{ owner: RecordingOwner; wake: ReturnType<typeof nativeWake>; open(): void }> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => accepted.push(s.on('error', () => {})));
  cleanups.push(() => {
    for (const s of accepted) s.destroy();
    srv.close();
  });
  const port = await new Promise<number>((r) =>
    srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)),
  );
  const owner = new RecordingOwner();
  cleanups.push(() => closeNativeCore(owner));
  const o = { deviceId: 0, ip: '127.0.0.1', port, localAddress: undefined, connectTimeoutMs: 60_000 };
  // The owner's first native open makes its device core (no outcome follows: the listener never answers).
  const open = (): void => {
    openNativeDevice(owner, { ...o, connectPacket: Buffer.from([0xe0, 0x00]), protocolVersion: 4 }, 4096);
  };
  return { owner, wake: nativeWake(owner), open };
}

describe.skipIf(!nativeBuilt())('the native core’s µs wake-up', () => {
  it('fires once, never before its µs; a later arm replaces the earlier one', async () => {
    const b = loadNative()!;
    const fired: number[] = [];
    let done = (): void => {};
    const h = b.create(
      () => {},
      1024,
      () => {
        fired.push(b.nowUs());
        done();
      },
    );
    cleanups.push(() => b.close(h));
    const armedAt = b.nowUs();
    b.wakeAfter(h, 3_000_000); // replaced by the next arm: never fires
    b.wakeAfter(h, 2_500);
    await new Promise<void>((resolve) => (done = resolve));
    expect(fired).toHaveLength(1);
    expect((fired[0] as number) - armedAt).toBeGreaterThanOrEqual(2_500);
  });

  it('holds the process alive while armed: the child lives until it fires', async () => {
    const r = await child('arm(5000);');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /^woke (\d+)\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(5_000);
  });

  it('disarmed, it neither fires nor holds the process: the child ends at once', async () => {
    // Armed for 10 minutes: had the disarm not released the loop, this test would time out.
    const r = await child('arm(600e6); b.wakeAfter(h, -1);');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('as the scheduler’s wake-up: a wake-only core until the first native open, then the device core', async () => {
    const { owner, wake, open } = await silentOwner();
    const woke: string[] = [];
    let done = (): void => {};
    const fn = (what: string) => (): void => {
      woke.push(what);
      done();
    };
    // No device core yet (JavaScript-path devices): a wake-only core carries the µs wake-up.
    let fired = new Promise<void>((r) => (done = r));
    expect(wake.arm(1_000, fn('wake-only'))).toBe(true);
    await fired;
    expect(woke).toEqual(['wake-only']);
    // Armed for 10 minutes on the wake-only core, then the owner's first native open makes its device
    // core (the listener never answers: no outcome follows) and the next arm moves there: the
    // wake-only core retires disarmed, so the 10-minute wake-up never comes.
    expect(wake.arm(600e6, fn('retired'))).toBe(true);
    open();
    fired = new Promise<void>((r) => (done = r));
    expect(wake.arm(1_000, fn('device core'))).toBe(true);
    await fired;
    // Armed for 10 minutes, then the core closes: the wake-up comes on the next turn instead.
    fired = new Promise<void>((r) => (done = r));
    expect(wake.arm(600e6, fn('closed'))).toBe(true);
    closeNativeCore(owner);
    await fired;
    // A turn later still: had the retired core's wake-up been delivered on close, it would be here.
    await new Promise<void>((r) => setImmediate(r));
    expect(woke).toEqual(['wake-only', 'device core', 'closed']);
  });

  it('disarm reaches the wake-only core too, once a device core exists beside it', async () => {
    const { owner, wake, open } = await silentOwner();
    const woke: string[] = [];
    expect(wake.arm(600e6, () => woke.push('wake-only'))).toBe(true);
    open();
    wake.disarm();
    // Closing a core with a wake-up still armed delivers it on the next turn: disarmed, nothing comes.
    closeNativeCore(owner);
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(woke).toEqual([]);
  });
});
