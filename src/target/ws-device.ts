/**
 * The plain WebSocket device endpoint (path /ws) and the HTTP side of the WebSocket listeners.
 * A device upgrades (admission and handshake cost apply to the upgrade; a shed upgrade gets
 * HTTP 503 with Retry-After), pings are answered with pongs by `ws` itself, and text frames are
 * answered: a JSON hello ({"type":"hello",…}) gets {"type":"hello-ack",…}, anything else is echoed.
 * MQTT over WebSocket (path /mqtt) is upgraded at once and its CONNECT goes through mqtt-front.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Admission } from './admission.js';
import type { TargetMetricsSnapshot } from './metrics.js';
import type { ServiceQueue } from './service.js';

const MAX_WS_MESSAGE_BYTES = 256 * 1024;

export interface UpgradeContext {
  admission: Admission;
  service: ServiceQueue;
  metrics: TargetMetricsSnapshot;
  /** `socket` is the upgraded socket (a TLS socket on wss), so outages can find and silence it. */
  onMqttStream(stream: Duplex, socket: Duplex): void;
  onDevice(socket: Duplex, ws: WebSocket): void;
}

export function helloReply(text: string): string {
  try {
    const msg = JSON.parse(text) as unknown;
    if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'hello') {
      const id = (msg as { id?: unknown }).id;
      return JSON.stringify({ type: 'hello-ack', ...(id !== undefined ? { id } : {}) });
    }
  } catch {
    // not JSON: echo below
  }
  return text;
}

function httpRefusal(socket: Duplex, status: 404 | 503): void {
  const text = status === 503 ? 'Service Unavailable' : 'Not Found';
  const extra = status === 503 ? 'Retry-After: 1\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), 2_000).unref();
}

/** Returns the 'upgrade' listener for an http/https server. */
export function upgradeHandler(ctx: UpgradeContext): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const mqttWss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, perMessageDeflate: false });
  const deviceWss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, perMessageDeflate: false });

  const onDevice = (ws: WebSocket, socket: Duplex): void => {
    ctx.metrics.wsDeviceSessions++;
    ctx.onDevice(socket, ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) ws.send(data, { binary: true });
      else ws.send(helloReply(data.toString()));
    });
    ws.on('close', () => ctx.metrics.wsDeviceSessions--);
    ws.on('error', () => {});
  };

  return (req, socket, head) => {
    socket.on('error', () => {});
    const path = (req.url ?? '').split('?')[0];
    if (path === '/mqtt') {
      mqttWss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => {});
        ctx.onMqttStream(stream, socket);
      });
      return;
    }
    if (path !== '/ws') {
      httpRefusal(socket, 404);
      return;
    }
    ctx.metrics.handshakesInProgress++;
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      ctx.metrics.handshakesInProgress--;
      return true;
    };
    socket.once('close', finish);
    ctx.admission.request({
      alive: () => !socket.destroyed,
      shed: (reason) => {
        if (!finish()) return;
        ctx.metrics.refusalsTotal[reason]++;
        httpRefusal(socket, 503);
      },
      admit: () => {
        if (done) return;
        ctx.service.submit(() => {
          if (!finish() || socket.destroyed) return;
          deviceWss.handleUpgrade(req, socket, head, (ws) => onDevice(ws, socket));
        });
      },
    });
  };
}
