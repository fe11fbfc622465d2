/**
 * Each test file gets a temporary folder of its own as TMPDIR: `os.tmpdir()` reads the variable at
 * every call, and the processes a test starts (herd, Mosquitto, RabbitMQ) inherit it, so whatever
 * the file writes there (reports, scenarios, broker configs) is removed with the folder after its
 * last hook. A file with a failed test keeps the folder and names it, for the post-mortem.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

const outer = tmpdir();
const dir = mkdtempSync(join(outer, 'herd-test-'));
// Searchable by all, as /tmp is: a broker that drops to its own user (Mosquitto started as root
// does) must still reach the folder a test made for it inside.
chmodSync(dir, 0o755);
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
