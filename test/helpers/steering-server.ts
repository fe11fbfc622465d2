/**
 * A purpose-built MQTT 5 server on a free loopback port that steers its clients the way a managed
 * cloud does and neither the embedded target nor Mosquitto can be told to: it accepts every
 * CONNECT (optionally with a Server Keep Alive) and, after `disconnectAfterMs`, sends DISCONNECT
 * with a chosen reason code and Server Reference — or refuses every CONNECT with a chosen CONNACK
 * reason code and closes. It counts the CONNECTs it saw.
 */
import * as net from 'node:net';
import * as mqtt from 'mqtt-packet';

export interface SteeringServerOptions {
  disconnect?: { afterMs: number; reasonCode: number; serverReference?: string };
  serverKeepAliveS?: number;
  /** Refuse every CONNECT with this CONNACK reason code (≥ 0x80), then close. */
  refuseWith?: number;
}

export interface SteeringServer {
  url: string;
  port: number;
  /** CONNECTs received, by client id. */
  connects: Map<string, number>;
  stop(): Promise<void>;
}

export async function startSteeringServer(o: SteeringServerOptions): Promise<SteeringServer> {
  const connects = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const parser = mqtt.parser({ protocolVersion: 5 });
    const send = (p: mqtt.Packet): void => {
      if (sock.writable) sock.write(mqtt.generate(p, { protocolVersion: 5 }));
    };
    parser.on('packet', (p: mqtt.Packet) => {
      if (p.cmd === 'connect') {
        connects.set(p.clientId, (connects.get(p.clientId) ?? 0) + 1);
        if (o.refuseWith !== undefined) {
          send({ cmd: 'connack', sessionPresent: false, reasonCode: o.refuseWith });
          sock.end();
          return;
        }
        send({
          cmd: 'connack',
          sessionPresent: false,
          reasonCode: 0,
          ...(o.serverKeepAliveS === undefined ? {} : { properties: { serverKeepAlive: o.serverKeepAliveS } }),
        });
        const d = o.disconnect;
        if (d) {
          const t = setTimeout(() => {
            timers.delete(t);
            send({
              cmd: 'disconnect',
              reasonCode: d.reasonCode,
              ...(d.serverReference === undefined ? {} : { properties: { serverReference: d.serverReference } }),
            });
            sock.end();
          }, d.afterMs);
          timers.add(t);
        }
      } else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else if (p.cmd === 'disconnect') sock.end();
    });
    parser.on('error', () => sock.destroy());
    sock.on('data', (b) => parser.parse(b));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    connects,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
