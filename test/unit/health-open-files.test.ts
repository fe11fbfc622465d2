import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countOpenFiles, type OpenFilesSource } from '../../src/engine/health.js';

/** A source with fixed answers that counts how often the directory was listed. */
function source(size: () => number, list: () => number): OpenFilesSource & { listed: number } {
  const s = {
    listed: 0,
    size,
    list: () => {
      s.listed++;
      return list();
    },
  };
  return s;
}

const fail = (): number => {
  throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
};

describe('countOpenFiles', () => {
  it("takes the kernel's count and never lists the directory when the kernel gives one", () => {
    const s = source(
      () => 19_873,
      () => 1,
    );
    expect(countOpenFiles(s)).toBe(19_873);
    expect(s.listed).toBe(0);
  });

  it('reads at the file limit: the stat needs no descriptor, the listing (which would fail) is not tried', () => {
    const s = source(() => 20_000, fail);
    expect(countOpenFiles(s)).toBe(20_000);
  });

  it("lists the directory where the kernel says 0, less the listing's own descriptor", () => {
    const s = source(
      () => 0,
      () => 7_513,
    );
    expect(countOpenFiles(s)).toBe(7_512);
    expect(s.listed).toBe(1);
  });

  it('lists the directory when the stat fails, and says null when neither can be read', () => {
    expect(countOpenFiles(source(fail, () => 101))).toBe(100);
    expect(countOpenFiles(source(fail, fail))).toBeNull();
    expect(countOpenFiles(source(() => 0, fail))).toBeNull();
  });

  it.runIf(process.platform === 'linux')('counts 100 descriptors this process opens, exactly', () => {
    const before = countOpenFiles();
    const fds: number[] = [];
    try {
      for (let i = 0; i < 100; i++) fds.push(openSync('/dev/null', 'r'));
      const during = countOpenFiles();
      expect(before).not.toBeNull();
      expect((during as number) - (before as number)).toBe(100);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    expect(countOpenFiles()).toBe(before);
  });
});
