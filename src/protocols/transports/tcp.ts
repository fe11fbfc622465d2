import * as net from 'node:net';

export interface TcpOpenOptions {
  host: string;
  port: number;
  /** Source address to bind (spreads ephemeral ports over 127.0.0.x). */
  localAddress?: string;
}

/** Opens a raw TCP socket; 'connect' fires when the transport is ready for protocol bytes. */
export function openTcp(o: TcpOpenOptions): net.Socket {
  const opts: net.NetConnectOpts = { host: o.host, port: o.port, noDelay: true };
  if (o.localAddress !== undefined) opts.localAddress = o.localAddress;
  return net.connect(opts);
}
