/**
 * Each test file gets a temporary folder of its own as TMPDIR: `os.tmpdir()` reads the variable at
 * every call, and the processes a test starts (herd, Mosquitto, RabbitMQ) inherit it, so whatever
 * the file writes there (reports, scenarios, broker configs) is removed with the folder after its
 * last hook. A file with a failed test keeps the folder and names it, for the post-mortem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

const outer = tmpdir();
const dir = mkdtempSync(join(outer, 'herd-test-'));
process.env.TMPDIR = dir;
let failed = false;

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(() => {
  process.env.TMPDIR = outer;
  if (failed) process.stderr.write(`a test failed: its files are kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
});
