/**
 * Files herd writes and reads (issue 22), run in-process through the real CLI. Outputs: a regular
 * file is replaced atomically, a character device or FIFO is written in place and stays what it
 * was, anything else is refused. Inputs: only a regular file of bounded size is read — a FIFO, a
 * device or a folder gets exit 2 naming the file, at once. Devices and FIFOs are made with mknod in
 * a temp folder (char 1 3 behaves as /dev/null, 1 5 as /dev/zero, 1 7 as /dev/full): no test
 * touches a real /dev node.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { herdInProcess } from '../helpers/in-process.js';
import { ROOT, type CliResult } from '../helpers/cli.js';

const DIR = mkdtempSync(join(tmpdir(), 'herd-bad-files-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const RESULTS = join(ROOT, 'fixtures', 'results-quickstart.json');
const SCENARIO = join(ROOT, 'scenarios', 'quickstart.yaml');
let n = 0;
const fresh = (name: string): string => join(DIR, `${++n}-${name}`);

/** mknod in the temp folder, or null with the reason when this machine does not allow it. */
function node(kind: 'c' | 'b' | 'p', major = 0, minor = 0): string {
  const p = fresh(`node-${kind}`);
  execFileSync('mknod', kind === 'p' ? [p, 'p'] : [p, kind, String(major), String(minor)]);
  return p;
}
const canMknod = ((): boolean => {
  try {
    rmSync(node('c', 1, 3));
    return true;
  } catch {
    return false;
  }
})();
const kind = (p: string): string => {
  const st = lstatSync(p);
  return st.isCharacterDevice()
    ? 'char'
    : st.isFIFO()
      ? 'fifo'
      : st.isBlockDevice()
        ? 'block'
        : st.isSymbolicLink()
          ? 'link'
          : st.isFile()
            ? 'file'
            : 'other';
};

function expectBad(r: CliResult, ...names: string[]): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^error E_[A-Z_]+: /);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  for (const name of names) expect(r.stderr).toContain(name);
}

/** Every command that writes with -o, aimed at `out`. */
const WRITERS: [string, (out: string) => string[]][] = [
  ['report -f md', (out) => ['report', RESULTS, '-f', 'md', '-o', out]],
  ['report -f html', (out) => ['report', RESULTS, '-f', 'html', '-o', out]],
  ['merge', (out) => ['merge', RESULTS, '-o', out, '-q']],
  ['export k6', (out) => ['export', 'k6', SCENARIO, '-o', out]],
  ['compare -o', (out) => ['compare', RESULTS, RESULTS, '-o', out]],
];

describe.skipIf(!canMknod)('outputs: devices and FIFOs are written in place, never replaced', () => {
  for (const [what, args] of WRITERS) {
    it(`${what} -o <char device 1 3>: written in place, still a character device`, async () => {
      const dev = node('c', 1, 3);
      const r = await herdInProcess(args(dev));
      expect(r.code, r.stderr).not.toBe(2);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(kind(dev)).toBe('char');
      // Nothing beside it either (no temp files, no k6 type files next to a device).
      expect(readdirSync(DIR).filter((f) => f.startsWith('.') || f.endsWith('.d.ts'))).toEqual([]);
    });

    it(`${what} -o <char device 1 7, a full device>: exit 3 E_OUT_WRITE, still a character device`, async () => {
      const dev = node('c', 1, 7);
      const r = await herdInProcess(args(dev));
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`cannot write ${dev}: no space left on the device (ENOSPC)`);
      expect(r.stderr).toMatch(/^error E_OUT_WRITE: /);
      expect(kind(dev)).toBe('char');
    });

    // The Markdown, JSON and k6 outputs fit a pipe's buffer, so this one thread can read after the write.
    const fitsPipe = !what.includes('html') && !what.startsWith('compare') && !what.startsWith('merge');
    it.skipIf(!fitsPipe)(`${what} -o <FIFO with a reader>: the reader gets the output, still a FIFO`, async () => {
      const fifo = node('p');
      const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const r = await herdInProcess(args(fifo));
        expect(r.code, r.stderr).not.toBe(2);
        const buf = Buffer.alloc(1 << 16);
        const got = readSync(reader, buf, 0, buf.length, null);
        expect(got).toBeGreaterThan(100);
        expect(kind(fifo)).toBe('fifo');
      } finally {
        closeSync(reader);
      }
    });

    it(`${what} -o <FIFO nobody reads>: exit 2 at once, still a FIFO`, async () => {
      const fifo = node('p');
      const r = await herdInProcess(args(fifo));
      expectBad(r, `cannot write ${fifo}: it is a FIFO and no process is reading it`);
      expect(kind(fifo)).toBe('fifo');
    });

    it(`${what} -o <block device>: refused, never opened`, async () => {
      const dev = node('b', 7, 200);
      const r = await herdInProcess(args(dev));
      expectBad(r, `-o: ${dev} is a block device; expected a file name`);
      expect(kind(dev)).toBe('block');
    });
  }
});

describe('outputs: files and links', () => {
  it('-o through a symbolic link replaces the file it names and keeps the link', async () => {
    const target = fresh('real.md');
    writeFileSync(target, 'old');
    const link = fresh('link.md');
    symlinkSync(target, link);
    const r = await herdInProcess(['report', RESULTS, '-f', 'md', '-o', link]);
    expect(r.code, r.stderr).toBe(0);
    expect(kind(link)).toBe('link');
    expect(readFileSync(target, 'utf8')).toContain('quickstart');
  });

  it('merge -o onto one of its own inputs: exit 2, the input untouched', async () => {
    const a = fresh('a.json');
    copyFileSync(RESULTS, a);
    const before = readFileSync(a, 'utf8');
    const r = await herdInProcess(['merge', RESULTS, a, '-o', a]);
    expectBad(r, `-o: ${a} is one of the files being merged (${a}); expected a new file name`);
    expect(readFileSync(a, 'utf8')).toBe(before);
  });

  it('report and compare -o onto their own input: exit 2, the input untouched', async () => {
    const a = fresh('c.json');
    copyFileSync(RESULTS, a);
    const before = readFileSync(a, 'utf8');
    expectBad(
      await herdInProcess(['report', a, '-f', 'md', '-o', a]),
      `-o: ${a} is one of the files being rendered (${a})`,
    );
    expectBad(
      await herdInProcess(['compare', RESULTS, a, '-o', a]),
      `-o: ${a} is one of the files being compared (${a})`,
    );
    expect(readFileSync(a, 'utf8')).toBe(before);
  });

  it('merge -o onto an input named another way (a link): exit 2', async () => {
    const a = fresh('b.json');
    copyFileSync(RESULTS, a);
    const link = fresh('b-link.json');
    symlinkSync(a, link);
    const r = await herdInProcess(['merge', a, '-o', link]);
    expectBad(r, 'is one of the files being merged');
  });
});

/** Commands that read a results file, with the file put in. */
const RESULT_READERS: [string, (f: string) => string[]][] = [
  ['report', (f) => ['report', f]],
  ['merge', (f) => ['merge', f, '-o', fresh('m.json')]],
  ['compare (base)', (f) => ['compare', f, RESULTS]],
  ['compare (candidate)', (f) => ['compare', RESULTS, f]],
];
/** Commands that read a scenario file. */
const SCENARIO_READERS: [string, (f: string) => string[]][] = [
  ['validate', (f) => ['validate', f]],
  ['run', (f) => ['run', f, '--out', fresh('out')]],
  ['export k6', (f) => ['export', 'k6', f]],
  ['breakpoint', (f) => ['breakpoint', f, '--out', fresh('out')]],
];

/** [what, make the odd input, words the message must carry]. */
const ODD_INPUTS: [string, () => string, string][] = [
  ['a FIFO with no writer', () => node('p'), 'is a FIFO (named pipe), expected a regular file'],
  ['a character device like /dev/zero', () => node('c', 1, 5), 'is a character device, expected a regular file'],
  [
    'a folder',
    () => {
      const d = fresh('dir');
      mkdirSync(d);
      return d;
    },
    'is a directory',
  ],
];

describe.skipIf(!canMknod)('inputs: only regular files of bounded size are read', () => {
  for (const [what, make, words] of ODD_INPUTS) {
    for (const [cmd, args] of RESULT_READERS) {
      it(`${cmd} given ${what} as a results file: exit 2 naming it`, async () => {
        const f = make();
        const r = await herdInProcess(args(f));
        expectBad(r, `${f}: cannot read the results file (${words})`);
      });
    }
    for (const [cmd, args] of SCENARIO_READERS) {
      it(`${cmd} given ${what} as the scenario: exit 2 naming it, nothing written`, async () => {
        const f = make();
        const argv = args(f);
        const r = await herdInProcess(argv);
        expectBad(r, `${f}: cannot read the scenario file (${words})`);
        const out = argv[argv.indexOf('--out') + 1];
        if (argv.includes('--out')) expect(() => statSync(out as string)).toThrow();
      });
    }
    it(`validate with device.tls.ca ${what}: exit 2 naming the field`, async () => {
      const ca = make();
      const s = fresh('tls.yaml');
      writeFileSync(
        s,
        `name: t\ndevices: 5\ntarget: mqtts://127.0.0.1:8883\ndevice: {tls: {ca: ${ca}}}\nwaves: [{type: ramp, over: 1s}]\n`,
      );
      const r = await herdInProcess(['validate', s]);
      expectBad(r, `device.tls.ca: ${ca}: ${what === 'a folder' ? 'is a folder, expected a PEM file' : words}`);
    });
  }

  it('a sparse 1 MiB + 1 scenario: refused by its size, not read', async () => {
    const f = fresh('big.yaml');
    writeFileSync(f, '');
    truncateSync(f, 1024 * 1024 + 1);
    expectBad(
      await herdInProcess(['validate', f]),
      `${f}: cannot read the scenario file (is 1048577 bytes, larger than the 1 MiB accepted)`,
    );
  });

  it('a sparse 256 MiB + 1 results file: refused by its size, not read', async () => {
    const f = fresh('big.json');
    writeFileSync(f, '');
    truncateSync(f, 256 * 1024 * 1024 + 1);
    expectBad(
      await herdInProcess(['report', f]),
      `${f}: cannot read the results file (is 268435457 bytes, larger than the 256 MiB accepted)`,
    );
  });

  it('a sparse 4 MiB + 1 CA file: refused by its size', async () => {
    const ca = fresh('big.pem');
    writeFileSync(ca, '');
    truncateSync(ca, 4 * 1024 * 1024 + 1);
    const s = fresh('tls.yaml');
    writeFileSync(
      s,
      `name: t\ndevices: 5\ntarget: mqtts://127.0.0.1:8883\ndevice: {tls: {ca: ${ca}}}\nwaves: [{type: ramp, over: 1s}]\n`,
    );
    expectBad(
      await herdInProcess(['validate', s]),
      `device.tls.ca: ${ca}: is 4194305 bytes, larger than the 4 MiB accepted`,
    );
  });
});
