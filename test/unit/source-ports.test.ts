import { describe, expect, it } from 'vitest';
import {
  AddressPorts,
  PORT_TRIES,
  SourcePorts,
  SourcePortsError,
  portTaken,
  workerPortSlice,
} from '../../src/protocols/transports/source-ports.js';

describe('workerPortSlice', () => {
  it('splits the range into disjoint contiguous slices that differ by at most one port', () => {
    // 32768–60999 is 28,232 ports: 3 workers get 9,410 / 9,411 / 9,411.
    expect([0, 1, 2].map((i) => workerPortSlice([32768, 60999], i, 3))).toEqual([
      { first: 32768, last: 42177 },
      { first: 42178, last: 51588 },
      { first: 51589, last: 60999 },
    ]);
    expect(workerPortSlice([32768, 60999], 0, 1)).toEqual({ first: 32768, last: 60999 });
    expect(workerPortSlice([1000, 1009], 1, 4)).toEqual({ first: 1002, last: 1004 });
  });

  it('refuses a worker outside its count and a range smaller than the workers', () => {
    expect(() => workerPortSlice([1000, 1009], 4, 4)).toThrow('worker 4 of 4 has no port slice');
    expect(() => workerPortSlice([1000, 1002], 0, 4)).toThrow('3 ports cannot be split between 4 workers');
  });
});

describe('AddressPorts', () => {
  it('hands ports out round robin, a released one going to the back of the line', () => {
    const a = new AddressPorts('127.0.0.5', { first: 40000, last: 40003 });
    expect([a.take(), a.take(), a.take()]).toEqual([40000, 40001, 40002]);
    a.release(40001);
    // The cursor goes on to 40003, then wraps past the held 40000 to the released 40001.
    expect([a.take(), a.take()]).toEqual([40003, 40001]);
    expect(a.inUse).toBe(4);
    a.release(40002);
    a.release(40000);
    expect([a.take(), a.take()]).toEqual([40002, 40000]);
  });

  it('ignores a release of a port it does not hold', () => {
    const a = new AddressPorts('127.0.0.5', { first: 40000, last: 40001 });
    a.release(40000);
    a.release(39999);
    a.release(40002);
    expect(a.inUse).toBe(0);
    expect(a.take()).toBe(40000);
    a.release(40000);
    a.release(40000);
    expect(a.inUse).toBe(0);
  });

  it('throws ESOURCEPORTS naming the address and the slice when every port is held', () => {
    const a = new AddressPorts('127.0.0.9', { first: 50000, last: 50001 });
    a.take();
    a.take();
    let err: unknown;
    try {
      a.take();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SourcePortsError);
    expect((err as SourcePortsError).code).toBe('ESOURCEPORTS');
    expect((err as Error).message).toBe(
      "source address 127.0.0.9: all 2 ports of this worker's slice 50000–50001 are held by its connections; " +
        'add source addresses (--source-ips)',
    );
  });

  it('names the tries and the last errno when every port tried was taken', () => {
    const e = new AddressPorts('127.0.0.9', { first: 50000, last: 50099 }).exhausted('EADDRINUSE');
    expect(e.code).toBe('ESOURCEPORTS');
    expect(e.message).toBe(
      `source address 127.0.0.9: ${PORT_TRIES} ports in a row of this worker's slice 50000–50099 were taken by ` +
        'other sockets (last: EADDRINUSE); free them or use other --source-ips',
    );
  });
});

describe('SourcePorts', () => {
  it('keeps one slice state per source address', () => {
    const p = new SourcePorts({ first: 42178, last: 51588 });
    expect(p.address('127.0.0.2').take()).toBe(42178);
    expect(p.address('127.0.0.3').take()).toBe(42178);
    expect(p.address('127.0.0.2').take()).toBe(42179);
    expect(p.address('127.0.0.2')).toBe(p.address('127.0.0.2'));
  });
});

describe('portTaken', () => {
  it('moves on for a bind EADDRINUSE and a connect EADDRNOTAVAIL, not for a foreign address', () => {
    expect(portTaken({ code: 'EADDRINUSE', syscall: 'bind' })).toBe('EADDRINUSE');
    expect(portTaken({ code: 'EADDRNOTAVAIL', syscall: 'connect' })).toBe('EADDRNOTAVAIL');
    expect(portTaken({ code: 'EADDRNOTAVAIL', syscall: 'bind' })).toBeNull();
    expect(portTaken({ code: 'ECONNREFUSED', syscall: 'connect' })).toBeNull();
    expect(portTaken(null)).toBeNull();
  });
});
