/**
 * What to do when the harness, not the target, ran out of a local resource; printed by the saturation
 * judgement. Keyed by the errno codes protocols/classify.ts files under origin `local`.
 */
export const LOCAL_ADVICE: Record<string, string> = {
  EMFILE: 'the harness process ran out of file descriptors: raise `ulimit -n` or use more --workers',
  ENFILE: 'the system file table is full: lower the device count or raise fs.file-max',
  EADDRNOTAVAIL: 'no free ephemeral port for a source address: add source addresses (--source-ips) or wait for TIME_WAIT to clear',
  EADDRINUSE: 'a source port was still in use (often TIME_WAIT from an earlier run): rotate --source-ips',
  ENOBUFS: 'the kernel ran out of socket buffers: lower the rate or the device count',
  ENOMEM: 'out of memory: use more workers or fewer devices per machine',
  EAGAIN: 'the kernel refused a resource temporarily: lower the connect rate',
};
