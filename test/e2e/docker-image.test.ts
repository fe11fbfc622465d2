/**
 * The image of examples/kubernetes, built and run by a real Docker engine: the example Dockerfile
 * is built on a Node base made from this machine's files (examples/kubernetes/node-base-image.sh,
 * passed as NODE_IMAGE: no image registry is needed), then 4 shard containers run with
 * `--shard i/4` and one `--start-at` against one embedded target on this machine's loopback (host
 * network), write their results to a mounted folder, and a fifth container merges them: the merge
 * equals one unsharded run of the plan in the same image, and its histograms are the shards' sum.
 *
 * Needs a reachable Docker engine: skipped with the reason otherwise; HERD_REQUIRE_DOCKER=1 (`npm
 * run test:docker`) turns the skip into a failure. HERD_REQUIRE_EXTERNAL does not, since CI has no
 * engine. The base image and the build's layers stay in the engine's cache, so a rerun is fast.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistogram, decodeHistogram } from '../../src/metrics/histogram.js';
import type { Results } from '../../src/results/types.js';
import { expectExit, ROOT, startHerdTarget, type CliResult } from '../helpers/cli.js';
import { findProgram } from '../helpers/external.js';

const SCENARIO = `name: docker-shards
devices: 800
seed: 11
device: { keepalive: 30s }
waves:
  - { type: ramp, over: 2s }
hold: 2s
`;
// No thresholds: the merge's exactness is tested, not the latency of a target on busy cores.
const NAME = `herd-test-${process.pid}`;
/** This run's own tag (two runs at once must not run each other's build), kept as :latest after. */
const IMAGE = `herd-image-test:${process.pid}`;
/** The image's user (node, as in the official image) writes the mounted results folder. */
const IMAGE_UID = 1000;

function engineUnavailable(): string | null {
  if (findProgram('docker') === null) return 'no docker client on the PATH';
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 15_000 });
    return null;
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err).trim();
    return `no Docker engine reachable (\`docker info\`: ${why.split('\n')[0]})`;
  }
}

function skipReason(): string | null {
  const why = engineUnavailable();
  if (why === null) return null;
  const msg = `${why}: the image test is skipped (start dockerd, then \`npm run test:docker\`)`;
  if (process.env.HERD_REQUIRE_DOCKER === '1') throw new Error(`HERD_REQUIRE_DOCKER=1 but ${msg}`);
  console.warn(`SKIP: ${msg}`);
  return msg;
}

/** Runs a command to its end (killed after timeoutMs) and returns its exit and output. */
function run(cmd: string, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `herd …` in a container of the image: host network, the results folder mounted at /results. */
function herdInContainer(name: string, dir: string, args: string[]): Promise<CliResult> {
  const flags = ['run', '--rm', '--name', `${NAME}-${name}`, '--network', 'host', '-v', `${dir}:/results`];
  return run('docker', [...flags, '-e', 'NO_COLOR=1', '-e', 'CI=1', IMAGE, ...args], 180_000);
}

function readOne(dir: string): { file: string; results: Results } {
  const [run] = readdirSync(dir).filter((d) => !d.startsWith('.'));
  const file = join(dir, run as string, 'results.json');
  return { file, results: JSON.parse(readFileSync(file, 'utf8')) as Results };
}

const unavailable = skipReason();

describe.skipIf(unavailable !== null)('the example image under a real Docker engine', () => {
  let target: Awaited<ReturnType<typeof startHerdTarget>> | undefined;
  let dir: string;
  const started: string[] = [];

  beforeAll(async () => {
    const base = await run('bash', ['examples/kubernetes/node-base-image.sh'], 300_000);
    expectExit(base, 0);
    const nodeImage = base.stdout.trim();
    // The build context is the repository less what Dockerfile.dockerignore leaves out (the classic
    // builder reads only a .dockerignore at the root, so the context is made here, as a tar).
    const ignored = readFileSync(join(ROOT, 'examples/kubernetes/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => `--exclude=./${l.trim()}`);
    const build =
      `set -o pipefail; tar -C . ${ignored.join(' ')} -c . | docker build --network host ` +
      `--build-arg NODE_IMAGE=${nodeImage} -f examples/kubernetes/Dockerfile -t ${IMAGE} -`;
    // --network host: `npm ci` in the build reaches the npm registry as npm on this machine does.
    const built = await run('bash', ['-c', build], 900_000, { DOCKER_BUILDKIT: '0' });
    expectExit(built, 0);
    dir = mkdtempSync(join(tmpdir(), 'herd-docker-'));
    chownSync(dir, IMAGE_UID, IMAGE_UID);
    writeFileSync(join(dir, 's.yaml'), SCENARIO);
    target = await startHerdTarget();
  }, 1_000_000);

  afterAll(async () => {
    target?.stop();
    // Containers of a test that timed out are still running: remove them by their names.
    if (started.length > 0) await run('docker', ['rm', '-f', ...started], 60_000);
    // Untagging only: the image and its layers stay under :latest, the next build's cache.
    if ((await run('docker', ['tag', IMAGE, 'herd-image-test:latest'], 60_000)).code === 0) {
      await run('docker', ['rmi', IMAGE], 60_000);
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('4 shard containers merged equal one unsharded run of the plan', async () => {
    const url = target?.url as string;
    const common = ['/results/s.yaml', '--target', url, '-q', '--allow-saturated'];
    started.push(`${NAME}-whole`);
    const whole = await herdInContainer('whole', dir, ['run', ...common, '--out', '/results/whole']);
    expectExit(whole, 0);

    // Far enough ahead that four containers starting on busy cores are all waiting when it comes
    // (25 s was not: at a load of 12 on 2 cores one container was ready 1 s after it).
    const startAt = new Date(Date.now() + 40_000).toISOString();
    const shards = await Promise.all(
      [1, 2, 3, 4].map((i) => {
        started.push(`${NAME}-shard-${i}`);
        const args = ['--shard', `${i}/4`, '--start-at', startAt, '--workers', '1', '--out', `/results/shard-${i}`];
        return herdInContainer(`shard-${i}`, dir, ['run', ...common, ...args]);
      }),
    );
    for (const s of shards) expectExit(s, 0);
    const parts = [1, 2, 3, 4].map((i) => readOne(join(dir, `shard-${i}`)));
    expect(parts.map((p) => [p.results.run.shard, p.results.attempts.planned])).toEqual(
      [1, 2, 3, 4].map((i) => [{ index: i, count: 4 }, 200]),
    );
    // One machine, one clock: every container was waiting when the agreed instant came.
    for (const p of parts) expect(p.results.run.clockOffsetMs).toBe(0);

    started.push(`${NAME}-merge`);
    const files = parts.map((p) => p.file.replace(dir, '/results'));
    const merged = await herdInContainer('merge', dir, ['merge', ...files, '-o', '/results/merged.json']);
    expectExit(merged, 0);
    const m = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')) as Results;
    const w = readOne(join(dir, 'whole')).results;
    expect(m.attempts).toEqual(w.attempts);
    expect(m.attempts.planned).toBe(800);
    expect(m.accounting.balanced).toBe(true);
    expect(m.run.mergedFrom).toEqual(parts.map((p) => p.results.run.id));
    // Every latency the shards recorded: the merged count is the sum of theirs, and the merged
    // histogram is their sum (same percentiles and maximum as the union of their histograms).
    const metrics = Object.keys(w.latency).sort();
    expect(Object.keys(m.latency).sort()).toEqual(metrics);
    for (const name of metrics) {
      const union = createHistogram();
      for (const p of parts) union.add(decodeHistogram(p.results.latency[name]!.histogram));
      const sum = parts.reduce((n, p) => n + (p.results.latency[name]?.count ?? 0), 0);
      expect([name, m.latency[name]?.count]).toEqual([name, sum]);
      expect([name, m.latency[name]?.count]).toEqual([name, w.latency[name]?.count]);
      expect([name, m.latency[name]?.p99Us, m.latency[name]?.maxUs]).toEqual([
        name,
        union.getValueAtPercentile(99),
        union.maxValue,
      ]);
    }
  }, 600_000);
});
