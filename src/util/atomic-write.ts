import { mkdirSync, renameSync, writeFileSync, rmSync, accessSync, constants, statSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HerdError } from '../errors.js';

/** Writes a file atomically: a temp file in the same folder, fsynced, then renamed over. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, content, { flush: true });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Checks up front that `dir` can be created and written, so no run is wasted on an unwritable folder. */
export function ensureWritableDir(dir: string, flag = '--out'): void {
  const kernelFs = kernelFilesystemOf(dir);
  if (kernelFs !== null) throw new HerdError('E_OUT_DIR', `${flag}: ${dir} is on ${kernelFs}, a kernel file system that holds no reports; expected a folder on a disk`);
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.herd-write-probe-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    throw new HerdError('E_OUT_DIR', `${flag}: cannot write to ${dir} (${code})`);
  }
}

/** Checks up front that a file can be written at `path`: its folder is writable and it is not a folder itself. */
export function ensureWritableFile(path: string, flag = '-o'): void {
  assertNotFolder(path, flag);
  ensureWritableDir(dirname(path), flag);
}

/** An output file named like an existing folder is bad input; checked before any other work, creating nothing. */
export function assertNotFolder(path: string, flag = '-o'): void {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Absent: it will be created.
  }
  if (isDir) throw new HerdError('E_OUT_DIR', `${flag}: ${path} is a folder; expected a file name (e.g. ${join(path, 'results.json')})`);
}

/** statfs magic numbers of file systems that are views of the kernel, not storage. */
const KERNEL_FS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x64626720: 'debugfs', 0x27e0eb: 'cgroupfs', 0x63677270: 'cgroup2fs', 0x73636673: 'securityfs' };

/** The kernel file system the nearest existing ancestor of `dir` lives on, or null. */
function kernelFilesystemOf(dir: string): string | null {
  let p = resolve(dir);
  for (;;) {
    try {
      statSync(p);
      return KERNEL_FS[statfsSync(p).type] ?? null;
    } catch {
      const up = dirname(p);
      if (up === p) return null;
      p = up;
    }
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops forever where the kernel answers
 * ENOENT for a parent that exists (procfs), so a bad --out would hang instead of failing.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    try {
      if (!statSync(p).isDirectory()) {
        throw Object.assign(new Error(`${p} is not a folder`), { code: 'ENOTDIR' });
      }
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      missing.push(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
    }
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
}
