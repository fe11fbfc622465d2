/* The arguments of one onBatch call: batch.h. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

struct refs_out {
  napi_env env;
  napi_value arr;
  uint32_t n;
};

/* A Server Reference as a JavaScript string (signal.c checked it is UTF-8). */
static void take_ref(void *ctx, const uint8_t *s, uint32_t n) {
  struct refs_out *o = ctx;
  napi_value v;
  if (napi_create_string_utf8(o->env, n > 0 ? (const char *)s : "", n, &v) == napi_ok) napi_set_element(o->env, o->arr, o->n, v);
  o->n++;
}

/* The kept array (made on first use) when `bytes` fit in it, else a fresh one; NULL if Node-API refused. */
static napi_value events_array(napi_env env, struct batch_buf *buf, size_t bytes, void **data) {
  napi_value ab, ta;
  if (bytes <= BATCH_KEPT_EVENTS * sizeof(struct wire_event)) {
    if (buf->ref == NULL) {
      size_t kept = BATCH_KEPT_EVENTS * sizeof(struct wire_event);
      if (napi_create_arraybuffer(env, kept, &buf->data, &ab) != napi_ok ||
          napi_create_typedarray(env, napi_float64_array, kept / sizeof(double), ab, 0, &ta) != napi_ok ||
          napi_create_reference(env, ta, 1, &buf->ref) != napi_ok) {
        buf->ref = NULL;
        return NULL;
      }
    } else if (napi_get_reference_value(env, buf->ref, &ta) != napi_ok) {
      return NULL;
    }
    *data = buf->data;
    return ta;
  }
  if (napi_create_arraybuffer(env, bytes, data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, bytes / sizeof(double), ab, 0, &ta) != napi_ok)
    return NULL;
  return ta;
}

int batch_args(napi_env env, struct wire *w, struct batch_buf *buf, napi_value args[4]) {
  size_t bytes = (size_t)w->nev * sizeof(struct wire_event);
  void *data = NULL;
  args[0] = events_array(env, buf, bytes, &data);
  if (args[0] == NULL || napi_create_uint32(env, w->nev, &args[1]) != napi_ok) return -1;
  memcpy(data, w->evs, bytes);
  w->nev = 0;
  napi_get_undefined(env, &args[2]);
  if (w->nref > 0) {
    struct refs_out refs = {env, NULL, 0};
    if (napi_create_array_with_length(env, w->nref, &refs.arr) == napi_ok) args[2] = refs.arr;
    wire_take_refs(w, take_ref, &refs); /* freed even when the array could not be made */
  }
  /* msg: the batch's inbound bytes (EV_MESSAGE, EV_SUBACK point into them), or undefined */
  void *copy;
  if (w->blob_len == 0 || napi_create_buffer_copy(env, w->blob_len, w->blob, &copy, &args[3]) != napi_ok)
    napi_get_undefined(env, &args[3]);
  w->blob_len = 0;
  wire_trim_events(w);
  if (w->blob_cap > (64u << 10)) { /* a burst of messages does not keep its buffer (one per worker) */
    free(w->blob);
    w->blob = NULL;
    w->blob_cap = 0;
  }
  return 0;
}

void batch_buf_free(napi_env env, struct batch_buf *buf) {
  if (buf->ref != NULL) napi_delete_reference(env, buf->ref);
  buf->ref = NULL;
  buf->data = NULL;
}
