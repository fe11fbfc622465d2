/**
 * What to do when the harness, not the target, ran out of a local resource; printed by the saturation
 * judgement. Keyed by the errno codes protocols/classify.ts files under origin `local`.
 */
export const LOCAL_ADVICE: Record<string, string> = {
  EMFILE: 'the harness process ran out of file descriptors: raise `ulimit -n` or use more --workers',
  ENFILE: 'the system file table is full: lower the device count or raise fs.file-max',
  EADDRNOTAVAIL:
    'no free ephemeral port for a source address: add source addresses (--source-ips) or wait for TIME_WAIT to clear',
  EADDRINUSE: 'a source port was still in use (often TIME_WAIT from an earlier run): rotate --source-ips',
  ESOURCEPORTS:
    'a worker found no free source port in its slice of the ephemeral range on a source address: add source addresses (--source-ips)',
  ENOBUFS: 'the kernel ran out of socket buffers: lower the rate or the device count',
  ENOMEM: 'out of memory: use more workers or fewer devices per machine',
  EAGAIN: 'the kernel refused a resource temporarily: lower the connect rate',
  EINVAL:
    'the system or a library refused an option herd passed (a source address of the wrong family, an invalid subprotocol): a misconfigured harness, check the flags and scenario',
  EAFNOSUPPORT: 'a source address of one family cannot reach a target of the other: match --source-ips to the target',
  ERR_INVALID_ARG_VALUE: 'Node refused an option herd passed: a misconfigured harness, check the flags and scenario',
  ERR_INVALID_ARG_TYPE: 'Node refused an option herd passed: a misconfigured harness, check the flags and scenario',
  ERR_INVALID_IP_ADDRESS: 'a source address Node cannot use: check --source-ips',
  ERR_INVALID_CHAR: 'a header value with a character HTTP forbids (e.g. the subprotocol): check the scenario',
  ERR_SOCKET_BAD_PORT: 'a port Node cannot use: check the target URL',
};
