import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HerdError } from '../errors.js';

/**
 * What a write to `path` does. A regular file (or none) is replaced atomically; a character
 * device or a FIFO (`-o /dev/stdout`, a pipe to another tool) is written in place, never renamed
 * over: renaming a file over /dev/null would break it for the whole machine.
 */
export type OutputKind = 'file' | 'in-place';

/** Errors of a write that mean the disk, not the user's input, failed: exit 3, E_OUT_WRITE. */
const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EFBIG: 'file too large for the file system',
};

/** A write that failed, as a HerdError naming the file and why. */
export function writeError(path: string, err: unknown): HerdError {
  if (err instanceof HerdError) return err;
  const code = (err as { code?: string }).code ?? 'error';
  const disk = DISK_ERRORS[code];
  if (disk !== undefined) return new HerdError('E_OUT_WRITE', `cannot write ${path}: ${disk} (${code})`);
  return new HerdError('E_OUT_DIR', `cannot write ${path} (${code})`);
}

/** How `path` will be written, or a HerdError (exit 2) for something herd must not write to. */
export function outputKind(path: string, flag = '-o'): OutputKind {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return 'file';
  }
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice() || st.isFIFO()) return 'in-place';
  const what = st.isDirectory() ? 'a folder' : st.isBlockDevice() ? 'a block device' : 'a socket';
  throw new HerdError(
    'E_OUT_DIR',
    `${flag}: ${path} is ${what}; expected a file name (or a character device or FIFO, written in place)`,
  );
}

/**
 * Writes a file atomically: a temp file in the same folder, fsynced, then renamed over. A device
 * or FIFO is written in place instead; a symbolic link keeps pointing at the file it names.
 */
export function writeFileAtomic(path: string, content: string): void {
  if (outputKind(path) === 'in-place') {
    writeInPlace(path, content, false);
    return;
  }
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // Absent: created under the name given.
  }
  const tmp = join(dirname(real), `.${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    writeFileSync(tmp, content, { flush: true });
    renameSync(tmp, real);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeError(path, err);
  }
}

/** Appends to a file (created when absent), or writes a device or FIFO in place. */
export function appendToFile(path: string, content: string, label: string): void {
  writeInPlace(path, content, outputKind(path, label) === 'file');
}

/**
 * Opens without creating or truncating, and writes all of `content`. A FIFO is first opened
 * non-blocking: with no process reading it, open(2) would wait for ever; ENXIO says so at once.
 */
function writeInPlace(path: string, content: string, append: boolean): void {
  let probe: number | null = null;
  let fd: number | null = null;
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isFIFO() === true) {
      try {
        probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as { code?: string }).code === 'ENXIO') {
          throw new HerdError('E_OUT_DIR', `cannot write ${path}: it is a FIFO and no process is reading it`);
        }
        throw err;
      }
    }
    // The probe keeps the reader's end open while the blocking descriptor is opened.
    fd = openSync(path, append ? 'a' : constants.O_WRONLY);
    if (probe !== null) closeSync(probe);
    probe = null;
    const bytes = Buffer.from(content, 'utf8');
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    throw writeError(path, err);
  } finally {
    if (probe !== null) closeSync(probe);
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Checks up front that `dir` can be created and written, so no run is wasted on an unwritable
 * folder. Returns the outermost folder it created (to remove should the command fail), or null.
 */
export function ensureWritableDir(dir: string, flag = '--out'): string | null {
  const kernelFs = kernelFilesystemOf(dir);
  if (kernelFs !== null)
    throw new HerdError(
      'E_OUT_DIR',
      `${flag}: ${dir} is on ${kernelFs}, a kernel file system that holds no reports; expected a folder on a disk`,
    );
  let created: string | null = null;
  try {
    created = makeDirs(dir);
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.herd-write-probe-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe, { force: true });
    return created;
  } catch (err) {
    if (created !== null) rmSync(created, { recursive: true, force: true });
    const code = (err as { code?: string }).code ?? 'error';
    throw new HerdError('E_OUT_DIR', `${flag}: cannot write to ${dir} (${code})`);
  }
}

/**
 * Undoes a command's output after it failed: removes `own` (a folder only this command writes)
 * and then each folder above it that this command created (`created`, from ensureWritableDir),
 * as long as it is empty — another run may share the output folder.
 */
export function removeOutput(own: string | null, parent: string, created: string | null): void {
  if (own !== null) rmSync(own, { recursive: true, force: true });
  if (created === null) return;
  const top = resolve(created);
  for (let p = resolve(parent); p.startsWith(top); p = dirname(p)) {
    try {
      rmdirSync(p);
    } catch {
      return;
    }
    if (p === top) return;
  }
}

/** `-o` naming one of the command's own inputs would replace it with the output: refused before anything is read. */
export function refuseOwnInput(out: string, inputs: readonly string[], verb: string): void {
  const stat = (p: string): Stats | undefined => {
    try {
      return statSync(p);
    } catch {
      return undefined; // absent or unreachable: not an input being replaced
    }
  };
  const o = stat(out);
  if (o === undefined || !o.isFile()) return;
  for (const f of inputs) {
    const i = stat(f);
    if (i !== undefined && i.dev === o.dev && i.ino === o.ino) {
      throw new HerdError('E_FLAG', `-o: ${out} is one of the files being ${verb} (${f}); expected a new file name`);
    }
  }
}

/** Checks up front that a file can be written at `path`: its folder is writable and it is not a folder itself. */
export function ensureWritableFile(path: string, flag = '-o'): void {
  if (outputKind(path, flag) === 'in-place') {
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      throw new HerdError(
        'E_OUT_DIR',
        `${flag}: cannot write to ${path} (${(err as { code?: string }).code ?? 'error'})`,
      );
    }
    return;
  }
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
  if (isDir)
    throw new HerdError(
      'E_OUT_DIR',
      `${flag}: ${path} is a folder; expected a file name (e.g. ${join(path, 'results.json')})`,
    );
}

/** statfs magic numbers of file systems that are views of the kernel, not storage. */
const KERNEL_FS: Record<number, string> = {
  0x9fa0: 'procfs',
  0x62656572: 'sysfs',
  0x64626720: 'debugfs',
  0x27e0eb: 'cgroupfs',
  0x63677270: 'cgroup2fs',
  0x73636673: 'securityfs',
};

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
function makeDirs(dir: string): string | null {
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
  let created: string | null = null;
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
      created ??= m;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  return created;
}
