import { mkdirSync, renameSync, writeFileSync, rmSync, accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
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
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.herd-write-probe-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    throw new HerdError('E_OUT_DIR', `${flag}: cannot write to ${dir} (${code})`);
  }
}
