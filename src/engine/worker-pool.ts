/**
 * The worker processes of a run, forked before the coordinator needs them. A worker's start-up —
 * loading its code, then warming its connect path against a throwaway loopback listener of its own
 * (warm-up.ts) — needs neither the plan nor the target, so `herd run` forks the workers while the
 * embedded target starts instead of after it. The coordinator adopts the pool; nothing is measured
 * before the origin it places once every worker is ready, so the overlap changes no figure of a run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { compiledSibling } from '../util/paths.js';
import type { ToWorker } from './messages.js';
import type { WarmEngineSpec } from './warm-engine.js';

/**
 * V8 flags every worker gets. A storm allocates fast and V8 answers by growing the young generation
 * to its 16 MB semi-space maximum (~30 MB resident per worker), which it gives back only ~30 s into
 * an idle hold: at 7,500 held sessions per worker that was ~2.8 KB of RSS per session, more than a
 * native session keeps in all. 1 MB semi-spaces cost no measurable CPU per connection
 * (docs/performance.md, "Memory per held connection"). A semi-space size the user chose wins.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const chosen = [...execArgv, nodeOptions ?? ''].some((a) => /semi[-_]space/.test(a));
  return chosen ? [...execArgv] : [...execArgv, '--max-semi-space-size=1'];
}

/**
 * The environment every worker gets: one glibc malloc arena unless the user chose a count. V8's
 * and Node's helper threads otherwise each get an arena of their own, which kept ~400 B per held
 * session of freed memory at 15k (docs/performance.md, "Memory per held connection").
 */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.MALLOC_ARENA_MAX === undefined ? { ...env, MALLOC_ARENA_MAX: '1' } : env;
}

/** Forks one worker process (the coordinator's own path when no pool was forked ahead). */
export function forkWorker(script?: string, args: string[] = []): ChildProcess {
  return fork(script ?? compiledSibling(import.meta.url, './worker.js'), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
    execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS),
    env: workerEnv(process.env),
  });
}

export interface PooledWorker {
  child: ChildProcess;
  /** An 'error' the process raised before the coordinator listened (it failed to fork, or to take a message). */
  earlyError: Error | null;
}

export class WorkerPool {
  private adopted = false;
  private readonly workers: PooledWorker[];

  private constructor(children: ChildProcess[]) {
    this.workers = children.map((child) => {
      const w: PooledWorker = { child, earlyError: null };
      child.on('error', (err) => (w.earlyError ??= err));
      return w;
    });
  }

  /**
   * Forks `count` workers; with `warmUp` each starts warming its connect path at once — the run's
   * own engine when `engine` gives worker i's warm-up (warm-engine.ts).
   */
  static fork(count: number, warmUp: boolean, engine?: (index: number) => WarmEngineSpec): WorkerPool {
    const pool = new WorkerPool(Array.from({ length: count }, () => forkWorker()));
    if (warmUp)
      pool.workers.forEach((w, i) => {
        const spec = engine?.(i);
        w.child.send((spec === undefined ? { type: 'warm' } : { type: 'warm', engine: spec }) satisfies ToWorker);
      });
    return pool;
  }

  /** The worker processes, for looking at (the coordinator alone talks to them once it has adopted them). */
  get processes(): readonly ChildProcess[] {
    return this.workers.map((w) => w.child);
  }

  /** The coordinator takes the workers over; from then on it alone ends them. */
  adopt(count: number): readonly PooledWorker[] {
    if (this.adopted) throw new Error('worker pool adopted twice');
    if (count !== this.workers.length) throw new Error(`worker pool of ${this.workers.length}, not ${count}`);
    this.adopted = true;
    return this.workers;
  }

  /** Ends the workers of a run that failed before its coordinator adopted them (a target that did not start). */
  discard(): void {
    if (this.adopted) return;
    this.adopted = true;
    for (const { child } of this.workers)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
