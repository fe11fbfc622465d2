import * as net from 'node:net';
import { HerdError } from '../errors.js';

/** One TCP connect to the target before the storm, so "unreachable" is one clear message (exit 3). */
export async function checkReachable(host: string, port: number, url: string, timeoutMs = 3_000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new HerdError('E_TARGET_UNREACHABLE', `target ${url}: no answer within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      // End with a FIN after nothing was sent; the server sees an empty connection.
      s.end();
      resolve();
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new HerdError('E_TARGET_UNREACHABLE', `target ${url}: cannot connect (${err.code ?? err.message})`));
    });
  });
}
