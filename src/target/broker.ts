/**
 * The aedes broker at the heart of the embedded target, with the hooks that implement silent
 * message loss (deliveries dropped on the way to subscribers, the publisher still gets its
 * PUBACK), silenced connections (an outage in "silent" mode) and the webhook forwarder.
 */
import { Aedes } from 'aedes';
import type { TargetMetricsSnapshot } from './metrics.js';
import { LOSS_SALT, seededShare } from './shares.js';
import type { WebhookForwarder } from './webhook.js';

export interface BrokerHooks {
  messageLossRate: number;
  lossSeed: number;
  metrics: TargetMetricsSnapshot;
  /** Streams an outage has silenced: nothing is delivered to them any more. */
  silenced: WeakSet<object>;
  webhook: WebhookForwarder | null;
}

export async function createBroker(h: BrokerHooks): Promise<Aedes> {
  const aedes = await Aedes.createBroker();
  const lose = seededShare(h.messageLossRate, h.lossSeed, LOSS_SALT.delivery);
  aedes.authorizeForward = (client, packet) => {
    if (client && h.silenced.has(client.conn)) return null;
    // $SYS heartbeats are the broker's own; loss applies to device traffic only.
    if (packet.topic.startsWith('$SYS/')) return packet;
    if (h.messageLossRate > 0 && lose()) {
      h.metrics.deliveriesDroppedTotal++;
      return null;
    }
    return packet;
  };
  aedes.on('publish', (packet, client) => {
    if (!client) return;
    h.metrics.publishesReceivedTotal++;
    h.webhook?.forward({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
      clientId: client.id,
    });
  });
  // A misbehaving client must not crash the target.
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});
  return aedes;
}
