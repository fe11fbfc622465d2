/**
 * The C reference client (bench/c/mqtt_ref.c): compiled with the system's cc into bench/out/ at
 * bench time, run as a child process, its one-line JSON result parsed. When no compiler is found
 * the bench says so and skips the reference rather than failing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** @returns {{ binary: string, compiler: string } | { skipped: string }} */
export function buildReference(repoRoot) {
  const cc = process.env.CC ?? 'cc';
  let version;
  try {
    version = execFileSync(cc, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0];
  } catch {
    return {
      skipped: `no C compiler (${cc}) found: the C reference is skipped; install one (e.g. apt-get install -y gcc) to get the herd / reference ratio`,
    };
  }
  const outDir = join(repoRoot, 'bench/out');
  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, 'mqtt_ref');
  try {
    execFileSync(cc, ['-O2', '-Wall', '-o', binary, join(repoRoot, 'bench/c/mqtt_ref.c')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    return {
      skipped: `compiling bench/c/mqtt_ref.c with ${cc} failed: ${String(err.stderr ?? err.message).slice(0, 400)}`,
    };
  }
  if (!existsSync(binary)) return { skipped: `${cc} produced no binary` };
  return { binary, compiler: version };
}

/**
 * @param {string} binary
 * @param {{ target: import('./targets.js').Target, count: number, inflight: number, sources: string[], holdMs: number, prefix: string, timeoutMs: number }} o
 */
export async function runReference(binary, o) {
  const args = [
    '--host',
    o.target.host,
    '--port',
    String(o.target.port),
    '--count',
    String(o.count),
    '--inflight',
    String(o.inflight),
    '--hold-ms',
    String(o.holdMs),
    '--client-prefix',
    o.prefix,
  ];
  if (o.sources.length > 0) args.push('--source-ips', o.sources.join(','));
  const out = await new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(kill);
      if (code !== 0) reject(new Error(`mqtt_ref exited ${code}: ${stderr.trim()}`));
      else resolve(stdout);
    });
  });
  return JSON.parse(String(out).trim().split('\n').at(-1));
}
