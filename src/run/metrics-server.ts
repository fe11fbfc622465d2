/** Serves the live Prometheus exposition of a run on loopback (`herd run --metrics-port`). */
import * as http from 'node:http';
import { HerdError } from '../errors.js';
import { renderPrometheus, type LiveSnapshot } from '../report/prometheus.js';

export interface MetricsServer {
  url: string;
  /** Starts answering /metrics from `snapshot`; until then a scrape gets 503 (the run has not started). */
  serve(snapshot: () => LiveSnapshot): void;
  close(): Promise<void>;
}

/** Binds the listener first (before the run creates --out), so a port that cannot be bound leaves nothing. */
export async function startMetricsServer(host: string, port: number): Promise<MetricsServer> {
  let snapshot: (() => LiveSnapshot) | null = null;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    if (snapshot === null) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('the run has not started\n');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      .end(renderPrometheus(snapshot()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new HerdError('E_FLAG', `--metrics-port: cannot listen on ${host}:${port} (${err.code ?? err.message})`)),
    );
    server.listen({ host, port }, () => resolve());
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}/metrics`,
    serve: (s) => {
      snapshot = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
