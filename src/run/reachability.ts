import * as net from 'node:net';

/**
 * One TCP connect to the target before the storm, closed at once without a byte sent, so a dead
 * target is one clear message instead of thousands of identical failures. It is still traffic the
 * target sees (docs/cli.md says so); --no-preflight skips it.
 *
 * Only a target that never accepts is unreachable: a reset, a close or garbage after the accept
 * means something is listening — a stateful or hostile target is a legitimate test subject.
 */
export type Reachability = { reachable: true } | { reachable: false; why: string };

/** Errors that mean the peer answered (so it is reachable), whatever it thought of us. */
const ANSWERED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export async function probeReachable(host: string, port: number, timeoutMs = 3_000): Promise<Reachability> {
  return new Promise<Reachability>((resolve) => {
    let done = false;
    const s = net.connect({ host, port });
    const finish = (r: Reachability): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ reachable: false, why: `no answer within ${timeoutMs / 1000}s` }),
      timeoutMs,
    );
    // Stays registered: a reset arriving after the verdict must not become an unhandled error.
    s.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      finish(ANSWERED.has(code) ? { reachable: true } : { reachable: false, why: describe(code) });
    });
    s.once('connect', () => finish({ reachable: true }));
  });
}

function describe(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
    default:
      return `cannot connect (${code})`;
  }
}
