/** Issue 22: errors a misconfigured harness causes have origin `local`, never the target's. */
import { describe, expect, it } from 'vitest';
import { classifyError } from '../../src/protocols/classify.js';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

describe("classifyError: the harness's own misconfiguration is local", () => {
  it.each([
    'EINVAL',
    'EAFNOSUPPORT',
    'ERR_INVALID_ARG_VALUE',
    'ERR_INVALID_IP_ADDRESS',
    'ERR_INVALID_CHAR',
    'ERR_SOCKET_BAD_PORT',
  ])('%s', (code) => {
    expect(classifyError(withCode(code), 'tcpConnect')).toEqual({ origin: 'local', phase: 'tcpConnect', code });
  });

  it('a SyntaxError from a library refusing an option (ws: invalid subprotocol) is local EINVAL', () => {
    expect(classifyError(new SyntaxError('An invalid or duplicated subprotocol was specified'), 'wsUpgrade')).toEqual({
      origin: 'local',
      phase: 'wsUpgrade',
      code: 'EINVAL',
    });
  });

  it("the target refusing or resetting stays the network's", () => {
    expect(classifyError(withCode('ECONNREFUSED'), 'tcpConnect').origin).toBe('network');
    expect(classifyError(withCode('ECONNRESET'), 'held').origin).toBe('network');
  });
});
