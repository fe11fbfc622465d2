/*
 * The arguments of one onBatch call (binding.c deliver): the batch's outcomes, their count, its
 * Server References and its inbound bytes. The outcomes go in a Float64Array the core keeps and
 * reuses, so a batch that fits allocates nothing: a fresh ArrayBuffer per batch was a malloc, a V8
 * object and a free at the next GC on every loop turn of a storm.
 */
#ifndef HERD_BATCH_H
#define HERD_BATCH_H

#include <node_api.h>

#include "wire.h"

/* Outcomes the kept array holds; a larger batch (messages arrive in bursts) gets an array of its own. */
#define BATCH_KEPT_EVENTS 256

struct batch_buf {
  napi_ref ref; /* the kept Float64Array, or NULL until the first batch */
  void *data;
};

/*
 * Fills args[0..3] — the outcomes (the first `count` of the array's), count, the references (an
 * array, or undefined when the batch has none), the inbound bytes (a Buffer, or undefined) — and
 * empties the wire's queues. 0, or -1 when Node-API refused (the queues are then left as they are).
 */
int batch_args(napi_env env, struct wire *w, struct batch_buf *buf, napi_value args[4]);
void batch_buf_free(napi_env env, struct batch_buf *buf);

#endif
