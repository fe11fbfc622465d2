/**
 * The native core's messaging outcomes (native/src/msg.c) as the owner calls the JavaScript path
 * makes for the same packets (src/protocols/mqtt/messaging.ts): PUBACK → onPublished with the
 * publish's tag, SUBACK → onSubscribed with its return codes, inbound PUBLISH → onMessage. The
 * core reads and answers the packets; this only decodes the batch's numbers and bytes.
 */
import type { Device, DeviceOwner, InboundMessage } from '../device.js';
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
    const granted = new Array<number>(n);
    for (let i = 0; i < n; i++) granted[i] = blob[t2 + i] as number;
    owner.onSubscribed?.(d, code & 0xffff, granted, t1);
    return;
  }
  if (owner.onMessage !== undefined) owner.onMessage(d, new NativeInbound(blob, t2, code, t1 + offsetUs));
}

/**
 * An inbound PUBLISH in a batch's bytes: topic length (2 bytes), topic, payload length (4 bytes),
 * payload. The topic is decoded the first time it is read: a telemetry echo matches its payload's
 * stamp and never reads it, so most messages never make that string.
 */
class NativeInbound implements InboundMessage {
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly receivedUs: number;
  private readonly blob: Buffer;
  private readonly at: number;
  private text: string | undefined;

  constructor(blob: Buffer, at: number, code: number, receivedUs: number) {
    const end = at + 2 + blob.readUInt16BE(at);
    this.blob = blob;
    this.at = at;
    this.payload = blob.subarray(end + 4, end + 4 + blob.readUInt32BE(end));
    this.qos = (code & 3) as 0 | 1 | 2;
    this.retain = (code & 4) !== 0;
    this.dup = (code & 8) !== 0;
    this.receivedUs = receivedUs;
  }

  get topic(): string {
    return (this.text ??= this.blob.toString('utf8', this.at + 2, this.at + 2 + this.blob.readUInt16BE(this.at)));
  }
}
