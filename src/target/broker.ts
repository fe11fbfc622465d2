/**
 * The aedes broker at the heart of the embedded target, with the hooks that implement silent
 * message loss (deliveries dropped on the way to subscribers, the publisher still gets its
 * PUBACK: messageLossRate, and blackhole outages), silenced connections (an outage in "silent"
 * mode) and the webhook forwarder. Its persistence forgives a message that is no longer stored
 * (see tolerateGoneMessages).
 */
import { Aedes } from 'aedes';
import { skipEmptyQueuePipeline } from './empty-queue.js';
import type { TargetMetricsSnapshot } from './metrics.js';
import { LOSS_SALT, seededShare } from './shares.js';
import type { WebhookForwarder } from './webhook.js';

export interface BrokerHooks {
  messageLossRate: number;
  lossSeed: number;
  metrics: TargetMetricsSnapshot;
  /** Streams an outage has silenced: nothing is delivered to them any more. */
  silenced: WeakSet<object>;
  /** A blackhole outage takes this delivery: acknowledged to its publisher, never delivered. */
  swallowing(): boolean;
  webhook: WebhookForwarder | null;
}

export async function createBroker(h: BrokerHooks): Promise<Aedes> {
  const aedes = await Aedes.createBroker();
  const lose = seededShare(h.messageLossRate, h.lossSeed, LOSS_SALT.delivery);
  aedes.authorizeForward = (client, packet) => {
    if (client && h.silenced.has(client.conn)) return null;
    // $SYS heartbeats are the broker's own; loss applies to device traffic only.
    if (packet.topic.startsWith('$SYS/')) return packet;
    if ((h.messageLossRate > 0 && lose()) || h.swallowing()) {
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
  tolerateGoneMessages(aedes);
  skipEmptyQueuePipeline((aedes as unknown as { persistence: unknown }).persistence);
  return aedes;
}

interface OutgoingStore {
  outgoingUpdate(client: unknown, packet: unknown): Promise<unknown>;
  outgoingClearMessageId(client: unknown, packet: unknown): Promise<unknown>;
}

/**
 * aedes 1.2 closes a resumed session when a queued QoS 1 message is acknowledged while it drains
 * the offline queue (its next update of that message finds it gone: "no such packet"), or when a
 * message sent twice is acknowledged twice. A QoS 1 client may see a message twice and acknowledge
 * both; a broker must not drop the session for it. Here a message already gone is simply gone.
 */
function tolerateGoneMessages(aedes: Aedes): void {
  const store = (aedes as unknown as { persistence: OutgoingStore }).persistence;
  const gone = (err: unknown): boolean => err instanceof Error && err.message === 'no such packet';
  const update = store.outgoingUpdate.bind(store);
  const clear = store.outgoingClearMessageId.bind(store);
  store.outgoingUpdate = (client, packet) =>
    update(client, packet).catch((err: unknown) => (gone(err) ? packet : Promise.reject(err)));
  store.outgoingClearMessageId = (client, packet) =>
    clear(client, packet).catch((err: unknown) => (gone(err) ? packet : Promise.reject(err)));
}
