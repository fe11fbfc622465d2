#!/usr/bin/env node
/**
 * Builds the optional native storm core (native/) with node-gyp, offline. It never fails an
 * install: without a C toolchain, Node's headers or node-gyp it prints one line and exits 0, and
 * herd runs every device on the JavaScript path (saying so once when a scenario asked for native).
 * HERD_NATIVE=0 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');

function skip(why) {
  console.log(`herd: native storm core not built (${why}); herd will use the JavaScript path`);
  process.exit(0);
}

if (process.env.HERD_NATIVE === '0') skip('HERD_NATIVE=0');
if (process.platform !== 'linux') skip('it uses epoll: Linux only');
if (!existsSync(join(nativeDir, 'binding.gyp'))) skip('native/binding.gyp is missing');

// Node's headers: next to this node binary (official builds, nvm) or the distribution's /usr.
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = [prefix, '/usr', '/usr/local'].find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (nodedir === undefined) skip('Node headers (include/node/node_api.h) not found and the build never downloads them');

function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: npm bundles one
  }
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => typeof p === 'string' && p !== '' && existsSync(p));
}
const gyp = findNodeGyp();
if (gyp === undefined) skip('node-gyp not found');

const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=error'], {
  cwd: nativeDir,
  encoding: 'utf8',
  timeout: 180_000,
  env: { ...process.env, npm_config_offline: 'true' },
});
if (r.status !== 0 || !existsSync(join(nativeDir, 'build', 'Release', 'herd_native.node'))) {
  const detail =
    `${r.stderr ?? ''}${r.stdout ?? ''}`
      .trim()
      .split('\n')
      .filter((l) => /error/i.test(l))[0] ??
    r.error?.message ??
    `exit ${r.status}`;
  skip(`node-gyp failed: ${detail.slice(0, 200)}`);
}
console.log('herd: native storm core built (native/build/Release/herd_native.node)');
