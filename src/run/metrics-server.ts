/** Serves the live Prometheus exposition of a run on loopback (`herd run --metrics-port`). */
import * as http from 'node:http';
import { HerdError } from '../errors.js';
import { renderPrometheus, type LiveSnapshot } from '../report/prometheus.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(
  host: string,
  port: number,
  snapshot: () => LiveSnapshot,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
