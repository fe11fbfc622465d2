/**
 * A cheap path through aedes 1.2's "push the offline queue" step for a client that has nothing
 * queued — every clean-session device, i.e. almost every CONNECT of a storm. aedes runs
 * `pipeline(persistence.outgoingStream(client), through(...), done)` on every CONNECT; with the
 * in-memory persistence that is two nested Readable.from() async iterators, a stream.pipeline with
 * its AbortController, end-of-stream listeners on both streams, and a DOMException when the
 * pipeline's controller is aborted at the end: about a fifth of the target's CPU per connect.
 *
 * Here the persistence remembers which client ids were ever given an outgoing message
 * (outgoingEnqueue / outgoingEnqueueCombi are the only ways into the queue); for any other id its
 * outgoingStream answers one shared sentinel, and stream.pipeline, given that sentinel first,
 * calls back on the next tick, as an empty pipeline would, without building anything. Every other
 * call of stream.pipeline in this process goes to Node's own. A client id that ever had something
 * queued keeps aedes's full path for good, so resumed sessions drain their queue exactly as before.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

/** The CommonJS exports object of node:stream: the one place its pipeline can be replaced. */
const stream = createRequire(import.meta.url)('node:stream') as typeof import('node:stream');

interface QueueStore {
  outgoingStream(client: { id: string }): unknown;
  outgoingEnqueue(sub: { clientId: string }, ...rest: unknown[]): unknown;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, ...rest: unknown[]): unknown;
}

/** What outgoingStream answers for a client with nothing ever queued. Only the pipeline below reads it. */
const NOTHING_QUEUED = Object.freeze({ nothingQueued: true });

let pipelinePatched = false;

/** Once per process: stream.pipeline(NOTHING_QUEUED, …, cb) calls cb(null) on the next tick. */
function patchPipeline(): void {
  if (pipelinePatched) return;
  pipelinePatched = true;
  const original = stream.pipeline;
  const patched = function pipeline(this: unknown, ...args: unknown[]): unknown {
    if (args[0] !== NOTHING_QUEUED) return (original as (...a: unknown[]) => unknown).apply(this, args);
    const callback = args[args.length - 1];
    if (typeof callback === 'function') process.nextTick(callback as (err: null) => void, null);
    return args[args.length - 2];
  };
  // stream.pipeline carries its promise form (util.promisify.custom) and friends: keep them.
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    const d = Object.getOwnPropertyDescriptor(original, key);
    if (d) Object.defineProperty(patched, key, d);
  }
  stream.pipeline = patched as typeof stream.pipeline;
  // aedes imports { pipeline } from 'stream' as an ES module: refresh that live binding too.
  syncBuiltinESMExports();
}

export function skipEmptyQueuePipeline(persistence: unknown): void {
  patchPipeline();
  const store = persistence as QueueStore;
  const everQueued = new Set<string>();
  const enqueue = store.outgoingEnqueue.bind(store);
  const enqueueCombi = store.outgoingEnqueueCombi.bind(store);
  const outgoingStream = store.outgoingStream.bind(store);
  store.outgoingEnqueue = (sub, ...rest) => {
    everQueued.add(sub.clientId);
    return enqueue(sub, ...rest);
  };
  store.outgoingEnqueueCombi = (subs, ...rest) => {
    for (const sub of subs) everQueued.add(sub.clientId);
    return enqueueCombi(subs, ...rest);
  };
  store.outgoingStream = (client) => (everQueued.has(client.id) ? outgoingStream(client) : NOTHING_QUEUED);
}
