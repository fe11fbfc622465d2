/**
 * Each test file gets a temporary folder of its own as TMPDIR, inside the run's root
 * (test/setup/tmp-root.ts): `os.tmpdir()` reads the variable at every call, and the processes a
 * test starts (herd, Mosquitto, RabbitMQ) inherit it, so whatever the file writes there (reports,
 * scenarios, broker configs) is removed with the folder after its last hook. A file with a failed
 * test keeps the folder and names it, for the post-mortem.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, inject } from 'vitest';

const outer = process.env.TMPDIR;
const dir = mkdtempSync(join(inject('tmpRoot'), 'file-'));
chmodSync(dir, 0o755); // searchable by all, as the root is (tmp-root.ts says why)
process.env.TMPDIR = dir;
let failed = false;

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(() => {
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  if (failed) process.stderr.write(`a test failed: its files are kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
});
