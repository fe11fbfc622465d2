/**
 * Reads a file a user named (scenario, results, certificate) only when it is a regular file of
 * bounded size: /dev/zero would otherwise be read until memory ran out, and a FIFO with no writer
 * would hang the command for ever.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

export const MIB = 1024 * 1024;

/** Largest certificate, key or CA bundle read (a full public CA bundle is about 0.2 MiB). */
export const MAX_PEM_BYTES = 4 * MIB;

/** `code`: the errno code when the system refused (ENOENT, EACCES…). */
export type InputRead = { ok: true; bytes: Buffer } | { ok: false; why: string; code?: string };

/** What a path that is not a regular file is, in words ("a FIFO (named pipe)"). */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function sizeText(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

function errnoText(err: unknown): string {
  const code = (err as { code?: string }).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
}

function codeOf(err: unknown): { code?: string } {
  const code = (err as { code?: string }).code;
  return code === undefined ? {} : { code };
}

/** The errno code stat(2) gives for `path`, if any. */
function errnoCode(path: string): { code?: string } {
  try {
    statSync(path);
    return {};
  } catch (err) {
    return codeOf(err);
  }
}

/** Why `path` cannot be read as an input of at most `maxBytes`, or null when it can. Opens nothing. */
export function inputFileProblem(path: string, maxBytes: number): string | null {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    return errnoText(err);
  }
  if (st.isDirectory()) return 'is a directory';
  if (!st.isFile()) return `is ${kindOf(st)}, expected a regular file`;
  if (st.size > maxBytes) return `is ${st.size} bytes, larger than the ${sizeText(maxBytes)} accepted`;
  return null;
}

/**
 * The bytes of `path`, or why not. The type is checked before opening (opening a device can have
 * effects) and again on the open descriptor, and never more than maxBytes + 1 bytes are read.
 */
export function readInputFile(path: string, maxBytes: number): InputRead {
  const problem = inputFileProblem(path, maxBytes);
  if (problem !== null) return { ok: false, why: problem, ...errnoCode(path) };
  let fd: number;
  try {
    // Non-blocking: should the path have become a FIFO since the check, open(2) still returns.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { ok: false, why: errnoText(err), ...codeOf(err) };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, why: `is ${kindOf(st)}, expected a regular file` };
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let len = 0;
    for (;;) {
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
      if (len > maxBytes) return { ok: false, why: `is larger than the ${sizeText(maxBytes)} accepted` };
      if (len === buf.length) return { ok: false, why: 'it grew while it was read' };
    }
    return { ok: true, bytes: buf.subarray(0, len) };
  } catch (err) {
    return { ok: false, why: errnoText(err), ...codeOf(err) };
  } finally {
    closeSync(fd);
  }
}
