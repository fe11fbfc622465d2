/**
 * Explicit source ports for the JavaScript path's bind-before-connect. Node binds a socket given a
 * `localAddress` with SO_REUSEADDR and port 0, and for such a bind Linux searches the ephemeral range
 * for a port no socket on that address holds: ~5 µs per bind up to ~6,000 sockets on one address,
 * ~1.3 ms past ~7,000 (docs/performance.md, "Source addresses"). With an explicit port the bind is one
 * hash lookup. So each worker owns a disjoint slice of the ephemeral range on every source address and
 * hands its ports out itself, round robin (a released port goes to the back of the line, which keeps
 * a port that just closed out of use for as long as possible).
 *
 * A port another process holds fails the bind with EADDRINUSE (or the connect with EADDRNOTAVAIL when
 * a socket on that port already reaches the same peer, e.g. in TIME_WAIT): the transport then tries
 * the next port, at most PORT_TRIES per attempt, before anything was sent to the target. What runs out
 * is reported as a SourcePortsError (code ESOURCEPORTS, a harness-side failure).
 */

/** Ports one attempt tries on one source address before it fails with ESOURCEPORTS. */
export const PORT_TRIES = 8;

/** Linux's default ip_local_port_range, used when /proc cannot be read. */
export const DEFAULT_EPHEMERAL_RANGE: readonly [number, number] = [32768, 60999];

/** A contiguous run of ports, both ends included. */
export interface PortSlice {
  first: number;
  last: number;
}

/**
 * Worker `index` of `count`'s slice of `range`: disjoint from every other worker's, contiguous, and
 * the sizes differ by at most one port. Shards run on machines of their own (with addresses of their
 * own), so only the workers of one machine split the range (engine/source-slices.ts: per address,
 * those that bind it).
 */
export function workerPortSlice(range: readonly [number, number], index: number, count: number): PortSlice {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count)
    throw new Error(`internal: worker ${index} of ${count} has no port slice`);
  const size = range[1] - range[0] + 1;
  if (size < count) throw new Error(`internal: ${size} ports cannot be split between ${count} workers`);
  return {
    first: range[0] + Math.floor((index * size) / count),
    last: range[0] + Math.floor(((index + 1) * size) / count) - 1,
  };
}

/** A source port could not be had: the worker's slice is full, or every port tried was taken. */
export class SourcePortsError extends Error {
  readonly code = 'ESOURCEPORTS';
}

/** One source address's ports in this worker's slice. */
export class AddressPorts {
  readonly address: string;
  readonly slice: PortSlice;
  /** 1 = handed out and not yet released, by port − slice.first. */
  private readonly held: Uint8Array;
  private cursor = 0;
  private heldCount = 0;

  constructor(address: string, slice: PortSlice) {
    this.address = address;
    this.slice = slice;
    this.held = new Uint8Array(slice.last - slice.first + 1);
  }

  /** Ports handed out and not released. */
  get inUse(): number {
    return this.heldCount;
  }

  /** The next port not held, round robin from the last one handed out; throws when all are held. */
  take(): number {
    const size = this.held.length;
    if (this.heldCount >= size) {
      throw new SourcePortsError(
        `source address ${this.address}: all ${size} ports of this worker's slice ` +
          `${this.slice.first}–${this.slice.last} are held by its connections; add source addresses (--source-ips)`,
      );
    }
    let i = this.cursor;
    while (this.held[i] === 1) i = i + 1 === size ? 0 : i + 1;
    this.held[i] = 1;
    this.heldCount++;
    this.cursor = i + 1 === size ? 0 : i + 1;
    return this.slice.first + i;
  }

  /** Gives a port back (its socket closed, or its bind failed). */
  release(port: number): void {
    const i = port - this.slice.first;
    if (i < 0 || i >= this.held.length || this.held[i] === 0) return;
    this.held[i] = 0;
    this.heldCount--;
  }

  /** The error of an attempt whose PORT_TRIES ports in a row were all taken by other sockets. */
  exhausted(lastCode: string): SourcePortsError {
    return new SourcePortsError(
      `source address ${this.address}: ${PORT_TRIES} ports in a row of this worker's slice ` +
        `${this.slice.first}–${this.slice.last} were taken by other sockets (last: ${lastCode}); ` +
        `free them or use other --source-ips`,
    );
  }
}

/** One worker's source ports: its slice on every source address it binds. */
export class SourcePorts {
  private readonly slices: ReadonlyMap<string, PortSlice>;
  private readonly otherwise: PortSlice;
  private readonly byAddress = new Map<string, AddressPorts>();

  /** `slices` per source address; an address not in it gets `otherwise`. */
  constructor(otherwise: PortSlice, slices: ReadonlyMap<string, PortSlice> = new Map()) {
    this.otherwise = otherwise;
    this.slices = slices;
  }

  address(address: string): AddressPorts {
    let a = this.byAddress.get(address);
    if (a === undefined) {
      a = new AddressPorts(address, this.slices.get(address) ?? this.otherwise);
      this.byAddress.set(address, a);
    }
    return a;
  }
}

/**
 * The worker's source ports, set by the engine for the length of a run that spreads over source
 * addresses. One per process, like the shared read buffer: the ports are the process's, and the
 * adapters reach them without a field on every device's options.
 */
let active: SourcePorts | null = null;

export function useSourcePorts(ports: SourcePorts | null): void {
  active = ports;
}

/** The ports of `address` when the run hands out source ports; null to let the kernel pick one. */
export function sourcePortsOf(address: string | undefined): AddressPorts | null {
  return address === undefined || active === null ? null : active.address(address);
}

/** Whether a failed bind or connect on an explicit source port means "try the next port". */
export function portTaken(err: unknown): string | null {
  const e = err as { code?: unknown; syscall?: unknown } | null;
  if (e?.code === 'EADDRINUSE') return e.code;
  // At bind, EADDRNOTAVAIL means the address is not this machine's: no other port would help.
  if (e?.code === 'EADDRNOTAVAIL' && e.syscall === 'connect') return e.code;
  return null;
}
