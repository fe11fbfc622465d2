/**
 * The native core's messaging outcomes (native/src/msg.c) as the owner calls the JavaScript path
 * makes for the same packets (src/protocols/mqtt/messaging.ts): PUBACK → onPublished with the
 * publish's tag, SUBACK → onSubscribed with its return codes, inbound PUBLISH → onMessage. The
 * core reads and answers the packets; this only decodes the batch's numbers and bytes.
 */
import type { Device, DeviceOwner } from '../device.js';
import { EV_MESSAGE, EV_PUBACK, EV_SUBACK } from './codes.js';

/** Whether an event kind is a messaging outcome (handled here, not by the device's connect states). */
export function isMessagingEvent(kind: number): boolean {
  return kind === EV_PUBACK || kind === EV_SUBACK || kind === EV_MESSAGE;
}

/**
 * Calls the owner for one messaging event of a connected device. `blob`: the batch's inbound
 * bytes; `offsetUs`: the core's clock onto the owner's. A payload is a view of the batch's own
 * buffer, made for this batch alone, so an owner may keep it past the call.
 */
export function deliverMessagingEvent(
  owner: DeviceOwner,
  d: Device,
  kind: number,
  code: number,
  t1: number,
  t2: number,
  blob: Buffer | undefined,
  offsetUs: number,
): void {
  if (kind === EV_PUBACK) {
    owner.onPublished?.(d, code & 0xffff, 1, t1, (code >>> 16) & 0xff, t2);
    return;
  }
  if (blob === undefined) return; // cannot happen: the core sends the bytes with every such event
  if (kind === EV_SUBACK) {
    const n = Math.floor(code / 65536); // the count may pass 16 bits: not a 32-bit shift
    owner.onSubscribed?.(d, code & 0xffff, [...blob.subarray(t2, t2 + n)], t1);
    return;
  }
  const topicBytes = blob.readUInt16BE(t2);
  const at = t2 + 2 + topicBytes;
  const payloadBytes = blob.readUInt32BE(at);
  owner.onMessage?.(d, {
    topic: blob.toString('utf8', t2 + 2, at),
    payload: blob.subarray(at + 4, at + 4 + payloadBytes),
    qos: (code & 3) as 0 | 1 | 2,
    retain: (code & 4) !== 0,
    dup: (code & 8) !== 0,
    receivedUs: t1 + offsetUs,
  });
}
