// Module hooks for hold-cli-load.mjs (they run on Node's hooks thread): dist/cli/main.js gets a
// synchronous wait in front of its own code, so the main thread is busy, not idle, while held.
import { join } from 'node:path';

let dir = null;

export function initialize(data) {
  dir = data?.dir ?? null;
}

export async function load(url, context, next) {
  const r = await next(url, context);
  if (dir === null || !url.endsWith('/dist/cli/main.js')) return r;
  const loading = JSON.stringify(join(dir, 'loading'));
  const go = JSON.stringify(join(dir, 'go'));
  const hold =
    `import { existsSync as __heldExists, writeFileSync as __heldWrite } from 'node:fs';\n` +
    `__heldWrite(${loading}, '');\n` +
    `for (const t = Date.now(); !__heldExists(${go}) && Date.now() - t < 60000; );\n`;
  return { ...r, source: hold + String(r.source) };
}
