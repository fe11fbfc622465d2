/**
 * Splits an MQTT byte stream into whole packets with hard limits, so nothing a target sends can
 * grow memory without bound: a packet larger than `maxPacketBytes` or a malformed length is an
 * error, and at most one partial packet is buffered per connection.
 */
export type FrameError = 'MQTT_MALFORMED_LENGTH' | 'MQTT_PACKET_TOO_LARGE';

export interface FrameSink {
  /**
   * A whole packet: the first byte (type and flags), the body after the length field, and the
   * whole frame (header included) for a full decoder. Both are views: copy what must outlive the call.
   */
  onPacket(firstByte: number, body: Buffer, frame: Buffer): void;
  onFrameError(code: FrameError): void;
}

/** What splitFrames needs of the connection it splits for: its stop flag, kept by the connection. */
export interface FrameGuard {
  /** Set once a frame error was reported, or the connection stopped reading: later bytes are dropped. */
  readonly framesStopped: boolean;
  stopFrames(): void;
}

/** splitFrames reported a frame error (and stopped the guard). */
export const FRAMES_FAILED = Symbol('frames failed');

/**
 * Hands every whole packet of `buf` to `sink`, stopping early once the guard is stopped (the sink
 * failed the connection). Returns the trailing partial packet as a copy to keep (so a small
 * leftover does not pin a large chunk), null when nothing is left, or FRAMES_FAILED after a frame
 * error was reported. Stateless: a connection keeps only its partial packet, and only while it has one.
 */
export function splitFrames(
  buf: Buffer,
  maxPacketBytes: number,
  sink: FrameSink,
  guard: FrameGuard,
): Buffer | null | typeof FRAMES_FAILED {
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 2) break;
    let len = 0;
    let mul = 1;
    let i = off + 1;
    let complete = false;
    for (let n = 0; n < 4 && i < buf.length; n++, i++) {
      const b = buf[i] as number;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) {
        complete = true;
        i++;
        break;
      }
    }
    if (!complete) {
      if (i - off - 1 >= 4) return fail(sink, guard, 'MQTT_MALFORMED_LENGTH');
      break; // need more bytes for the length field
    }
    if (len + (i - off) > maxPacketBytes) return fail(sink, guard, 'MQTT_PACKET_TOO_LARGE');
    if (buf.length - i < len) break;
    if (guard.framesStopped) return null;
    sink.onPacket(buf[off] as number, buf.subarray(i, i + len), buf.subarray(off, i + len));
    off = i + len;
  }
  return off < buf.length && !guard.framesStopped ? Buffer.from(buf.subarray(off)) : null;
}

function fail(sink: FrameSink, guard: FrameGuard, code: FrameError): typeof FRAMES_FAILED {
  guard.stopFrames();
  sink.onFrameError(code);
  return FRAMES_FAILED;
}

/** splitFrames with its partial packet and stop flag kept in one object. */
export class FrameSplitter implements FrameGuard {
  private pending: Buffer | null = null;
  private readonly maxPacketBytes: number;
  private stopped = false;

  constructor(maxPacketBytes: number) {
    this.maxPacketBytes = maxPacketBytes;
  }

  get framesStopped(): boolean {
    return this.stopped;
  }

  /** Stops delivering packets (the connection is failing); remaining bytes are discarded. */
  stop(): void {
    this.stopped = true;
    this.pending = null;
  }

  stopFrames(): void {
    this.stop();
  }

  push(chunk: Buffer, sink: FrameSink): void {
    if (this.stopped) return;
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    const rest = splitFrames(buf, this.maxPacketBytes, sink, this);
    if (rest !== FRAMES_FAILED && !this.stopped) this.pending = rest;
  }

  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }
}

export const PACKET = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBACK: 9,
  UNSUBACK: 11,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT_V4 = Buffer.from([0xe0, 0x00]);
