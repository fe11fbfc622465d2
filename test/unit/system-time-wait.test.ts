import { describe, expect, it } from 'vitest';
import { countTimeWait, timeWaitTotalOf } from '../../src/engine/system.js';

/** Lines as the kernel prints them (tcp4_seq_show), each padded to 150 columns like the real file. */
const pad = (s: string): string => s.padEnd(149, ' ');
const HEADER = pad('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode');
const tw = (sl: string, local: string, remote: string): string =>
  pad(`${sl}: ${local} ${remote} 06 00000000:00000000 03:00000FA5 00000000     0        0 0 3 0000000026cc20a7`);
const LINES = [
  HEADER,
  // LISTEN on 0.0.0.0:2024 and ESTABLISHED on 127.0.0.1: not counted.
  pad(
    '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1088 1 000000006ad687a9',
  ),
  pad(
    '   1: 0100007F:9E49 0100007F:075B 01 00000006:00000000 00:00000000 00000000  1000        0 4242 1 0000000012345678',
  ),
  // TIME_WAIT: two on 127.0.0.1, one on 127.0.0.2, one on 10.0.0.5.
  tw('   2', '0100007F:87E9', '4100007F:865E'),
  tw('   3', '0100007F:87EA', '4000007F:9718'),
  tw('   4', '0200007F:9000', '0100007F:075B'),
  tw('   5', '0500000A:C350', '0100000A:01BB'),
  // A remote address and a tx_queue that contain "06" do not make a line TIME_WAIT.
  pad(
    '   6: 0300007F:0006 06000006:0606 01 00000006:00000006 00:00000000 00000000     0        0 77 1 0000000000000006',
  ),
  // Malformed: no state column, a state cut short, garbage, a local address that is not hex.
  '   7: 0100007F:9E49 4000007F:CC4A',
  '   8: 0100007F:9E49 4000007F:CC4A 0',
  'garbage: 06 06 06',
  tw('   9', '0100G07F:87E9', '4100007F:865E'),
  // Past 9999 the sl column is wider than "%4d": the offsets count from the colon.
  tw('10000', '0200007F:9001', '0100007F:075B'),
  tw('123456', '0200007F:9002', '0100007F:075B'),
];

describe('countTimeWait (/proc/net/tcp at fixed offsets)', () => {
  it('counts TIME_WAIT per local IPv4 address, and nothing else', () => {
    const text = LINES.join('\n') + '\n';
    const want = new Map([
      ['127.0.0.1', 2],
      ['127.0.0.2', 3],
      ['10.0.0.5', 1],
    ]);
    expect(countTimeWait(text)).toEqual(want);
    expect(countTimeWait(Buffer.from(text, 'latin1'))).toEqual(want);
  });

  it('reads the last line without its newline, and a line of exactly the state column', () => {
    expect(countTimeWait([HEADER, tw('   0', '0100007F:87E9', '4100007F:865E')].join('\n'))).toEqual(
      new Map([['127.0.0.1', 1]]),
    );
    expect(countTimeWait(`${HEADER}\n   0: 0100007F:87E9 4100007F:865E 06`)).toEqual(new Map([['127.0.0.1', 1]]));
  });

  it('skips the header, and an empty file counts nothing', () => {
    // A header that happened to hold a TIME_WAIT-shaped line is still the header.
    expect(countTimeWait(tw('   0', '0100007F:87E9', '4100007F:865E'))).toEqual(new Map());
    expect(countTimeWait('')).toEqual(new Map());
    expect(countTimeWait(HEADER + '\n')).toEqual(new Map());
  });

  it('accepts lower-case hex digits as the address parser always did', () => {
    expect(countTimeWait(`${HEADER}\n${tw('   0', '0a0b0c0d:87e9', '4100007F:865E')}\n`)).toEqual(
      new Map([['13.12.11.10', 1]]),
    );
  });
});

describe('timeWaitTotalOf (/proc/net/sockstat)', () => {
  it('reads the tw field of the TCP line', () => {
    const text =
      'sockets: used 13\nTCP: inuse 1 orphan 0 tw 47043 alloc 1 mem 26\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\n' +
      'RAW: inuse 0\nFRAG: inuse 0 memory 0\n';
    expect(timeWaitTotalOf(text)).toBe(47_043);
    expect(timeWaitTotalOf(text.replace('tw 47043', 'tw 0'))).toBe(0);
  });

  it('is null when the line or the field is missing (the TIME_WAIT list is then read)', () => {
    expect(timeWaitTotalOf('sockets: used 13\nUDP: inuse 0 mem 0\n')).toBeNull();
    expect(timeWaitTotalOf('sockets: used 13\nTCP: inuse 1 orphan 0 alloc 1 mem 26\n')).toBeNull();
    // "tw" in another line is not TCP's.
    expect(timeWaitTotalOf('sockets: used 13\nUDP: inuse 0 tw 5\nTCP: inuse 1\n')).toBeNull();
  });
});
