import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import * as net from 'node:net';
import { it } from 'vitest';
import { DEVICE_KIND_ROWS, prepareTarget } from '/work/wt/ntls/src/protocols/kinds.js';
import { buildConnect } from '/work/wt/ntls/src/protocols/mqtt/connect-packet.js';
import { loadNative } from '/work/wt/ntls/src/protocols/native/binding.js';
import { RecordingOwner } from '/work/wt/ntls/test/adapter/protocol-owner.js';
const D = '/work/wt/ntls/fixtures/tls/';
it('dbg', async () => {
  const srv = tls.createServer({ key: readFileSync(D + 'server.key'), cert: readFileSync(D + 'server.crt'), maxVersion: 'TLSv1.2' }, (s) => {
    console.log('server resumed', s.isSessionReused());
    s.on('data', (d) => { if (d[0] === 0x10) s.write(Buffer.from([0x20, 2, 0, 0])); if (d.includes(0xe0)) s.end(); });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const t = prepareTarget('mqtt', `mqtts://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, { ca: D + 'ca.crt', resume: 1, maxVersion: 'TLSv1.2' });
  const owner = new RecordingOwner();
  for (let i = 0; i < 2; i++) {
    owner.events.length = 0;
    const c = DEVICE_KIND_ROWS.mqtt.open(t, { engine: 'native', deviceId: 3, localAddress: undefined, connectTimeoutMs: 3000, maxPacketBytes: 4096,
      connectPacket: buildConnect({ clientId: 'x', username: null, password: null, keepaliveS: 30, clean: true, protocolVersion: 4 }) }, owner);
    const r = await owner.outcome(3);
    console.log(r.kind, r.failure, c.tlsResumed, c.mqtt === null);
    const b = loadNative()!;
    c.end(); await owner.waitKind('closed', 3);
    console.log('has', t.tls!.sessions.offeredCount, t.tls!.sessions.savesSessions);
  }
  srv.close();
});
