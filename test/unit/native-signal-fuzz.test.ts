/**
 * The native core's MQTT 5 signal reader (native/src/signal.c) under AddressSanitizer and
 * UndefinedBehaviorSanitizer: native/test/signal-fuzz.c feeds it 200,000 random and mutated
 * CONNACK/DISCONNECT bodies in pieces; any read past a piece, any leak or undefined behaviour
 * fails the run, and every body fed whole must end as a signal or as malformed. Where the C
 * compiler has no sanitizer runtime the harness runs without one (said on stderr); without a C
 * compiler the test skips with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { externalProgram } from '../helpers/external.js';

const cc = externalProgram('cc');
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'herd-signal-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(sanitize: boolean): string | null {
  const out = join(dir, sanitize ? 'fuzz-asan' : 'fuzz');
  const flags = sanitize ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-O1', '-g'] : ['-O1'];
  const src = [join(ROOT, 'native/test/signal-fuzz.c'), join(ROOT, 'native/src/signal.c')];
  const r = spawnSync(
    cc as string,
    ['-std=gnu11', '-Wall', '-Wextra', ...flags, `-I${join(ROOT, 'native/src')}`, ...src, '-lm', '-o', out],
    {
      encoding: 'utf8',
    },
  );
  return r.status === 0 ? out : null;
}

describe.skipIf(cc === null)('the native MQTT 5 signal reader, fuzzed under sanitizers', () => {
  it('200,000 random and mutated bodies: no overread, leak or undefined behaviour; every body ends', () => {
    let bin = build(true);
    if (bin === null) {
      console.warn('NOTE: the C compiler has no ASan/UBSan runtime: the fuzz harness runs without sanitizers');
      bin = build(false);
    }
    expect(bin).not.toBeNull();
    const out = execFileSync(bin as string, ['200000', '7'], { encoding: 'utf8', timeout: 60_000 });
    const m = /^ok (\d+) bad (\d+)$/m.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1]) + Number(m![2])).toBe(200_000);
    // The mutated valid body stays valid often enough that the reader's signal path is exercised.
    expect(Number(m![1])).toBeGreaterThan(1_000);
  });
});
