/*
 * Node-API face of the native storm core. Design choice (docs/adr/0006): no thread of its own.
 * The core's epoll fd is watched by one uv_poll handle on Node's own loop; when it is readable the
 * core drains up to 256 socket events per epoll_wait and hands their outcomes to JavaScript as ONE
 * Float64Array call (5 numbers per outcome, with their count; the batch's Server References as strings beside
 * it; batch.c). No locks, no cross-thread queues, and the engine sees
 * outcomes in the same turn-by-turn order as the JavaScript path.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <uv.h>

#include "batch.h"
#include "deadline.h"
#include "binding.h" /* msg: (npub) publish/subscribe live in msg_js.c; hooks marked "msg:" */
#include "signal.h"
#include "tls_binding.h" /* TLS hook */
#include "wake.h"
#include "wire.h"

#define EPOLL_BATCH 256
/* Rounds per libuv wakeup: bounded so timers and JavaScript keep their turn under a storm. */
#define ROUNDS_PER_WAKEUP 8
/* Turns in a row the connect deadlines may wait while events are still waiting to be read. */
#define MAX_DEFERRED 64
/* msg: deliver mid-round once this many events are queued (it grows past that only within one socket's reads). */
#define EVENT_BATCH 1024

struct core {
  struct wire w;
  napi_env env;
  napi_ref on_batch;
  napi_async_context async;
  uv_poll_t *poll;
  uv_idle_t *kick; /* delivers outcomes queued by a call from JavaScript (a TLS start that failed) next turn */
  int referenced;
  int closed;
  int behind; /* the last wakeup stopped at ROUNDS_PER_WAKEUP with events still waiting */
  int deferred; /* turns in a row the connect deadlines waited for the reads to catch up */
  struct tls_cfgs tls; /* TLS hook: the core's TLS settings (tls_binding.c) */
  struct deadlines dl; /* the attempts' connect deadlines (deadline.c) */
  struct batch_buf batch; /* the Float64Array batches are delivered in (batch.c) */
  struct wake wk; /* the scheduler's µs wake-up (wake.c) */
};

/* Keeps the process alive only while the core has connections, as sockets do on the JS path. */
static void update_ref(struct core *c) {
  if (c->poll == NULL) return;
  int want = c->w.live > 0 || c->wk.armed; /* an armed wake-up holds the loop, as a Node timer does */
  if (want == c->referenced) return;
  if (want) uv_ref((uv_handle_t *)c->poll);
  else uv_unref((uv_handle_t *)c->poll);
  c->referenced = want;
}

static void deliver(struct core *c) {
  if (c->w.nev == 0) return;
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value args[4], fn, recv, result;
  if (batch_args(env, &c->w, &c->batch, args) == 0) {
    napi_get_reference_value(env, c->on_batch, &fn);
    napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
    if (napi_make_callback(env, c->async, recv, fn, 4, args, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err); /* a bug in the engine's handler: surface it, never swallow it */
    }
  }
  napi_close_handle_scope(env, scope);
}

/*
 * Reads what reached the sockets (at most ROUNDS_PER_WAKEUP batches), then judges the connect
 * deadlines: never before reading, so a CONNACK that arrived while the loop was busy counts. While
 * events are still waiting (behind), the deadlines wait for the next turn's read, MAX_DEFERRED at most.
 */
static void read_then_judge(struct core *c) {
  struct epoll_event evs[EPOLL_BATCH];
  int woke = 0, full = 0;
  for (int round = 0; round < ROUNDS_PER_WAKEUP && !c->closed; round++) {
    int n = epoll_wait(c->w.epfd, evs, EPOLL_BATCH, 0);
    full = n == EPOLL_BATCH;
    if (n <= 0) break;
    for (int i = 0; i < n && !c->closed; i++) {
      if (evs[i].data.u64 == WAKE_TAG) woke |= wake_take(&c->wk);
      else wire_handle(&c->w, evs[i].data.u64, evs[i].events);
      if (c->w.nev >= EVENT_BATCH) deliver(c); /* msg: messages fill the queue faster */
    }
    if (c->closed) break;
    deliver(c);
    if (n < EPOLL_BATCH) break;
  }
  c->behind = full;
  if (!c->closed) {
    if (!c->behind || ++c->deferred > MAX_DEFERRED) {
      c->deferred = 0;
      deadlines_run(&c->dl);
    }
    deliver(c);
  }
  if (woke && !c->closed) wake_call(c->env, c->async, &c->wk); /* after the outcomes: ended handshakes first */
  update_ref(c);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  read_then_judge(h->data);
}

/* The deadline timer expired: read first, then judge (deadline.h). */
static void on_deadlines(void *ctx) {
  read_then_judge(ctx);
}

static void free_poll(uv_handle_t *h) {
  free(h);
}

static void on_kick(uv_idle_t *h) {
  struct core *c = h->data;
  uv_idle_stop(h);
  if (c->closed) return;
  deliver(c);
  update_ref(c);
}

/* After a call from JavaScript: outcomes it queued reach JavaScript on the loop's next turn, never inside the call. */
static void after_call(struct core *c) {
  update_ref(c);
  if (c->w.nev > 0 && c->kick != NULL) uv_idle_start(c->kick, on_kick);
}

static void shut(struct core *c) {
  if (c->closed) return;
  c->closed = 1;
  if (c->poll != NULL) {
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, free_poll);
    c->poll = NULL;
  }
  if (c->kick != NULL) {
    uv_idle_stop(c->kick);
    uv_close((uv_handle_t *)c->kick, free_poll);
    c->kick = NULL;
  }
  deadlines_free(&c->dl);
  wake_free(c->env, &c->wk);
  wire_free(&c->w);
  tls_cfgs_free(&c->tls); /* TLS hook: after every connection made from them */
}

static void finalize(napi_env env, void *data, void *hint) {
  struct core *c = data;
  shut(c);
  napi_delete_reference(env, c->on_batch);
  batch_buf_free(env, &c->batch);
  napi_async_destroy(env, c->async);
  free(c);
}

static struct core *core_arg(napi_env env, napi_value v);

/* msg: the core's wire for msg_js.c, or NULL with a JavaScript error thrown. */
struct wire *core_wire(napi_env env, napi_value v) {
  struct core *c = core_arg(env, v);
  return c == NULL ? NULL : &c->w;
}

static struct core *core_arg(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL || ((struct core *)p)->closed) {
    napi_throw_error(env, "E_NATIVE", "herd_native: not an open core");
    return NULL;
  }
  return p;
}

/* TLS hooks (tls_binding.h): the open core behind a handle, and its ref after connections came or went. */
struct wire *binding_core(napi_env env, napi_value v, struct tls_cfgs **tls, void **core) {
  struct core *c = core_arg(env, v);
  if (c == NULL) return NULL;
  *tls = &c->tls;
  *core = c;
  return &c->w;
}
void binding_refresh(void *core) {
  after_call(core);
}

/* The open core's wake-up behind a handle (wake.h). */
struct wake *binding_wake(napi_env env, napi_value v, void **core) {
  struct core *c = core_arg(env, v);
  *core = c;
  return c == NULL ? NULL : &c->wk;
}

/* create(onBatch, maxPacketBytes, onWake) → core */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out, name;
  uint32_t max_packet = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_uint32(env, argv[1], &max_packet));
  struct core *c = calloc(1, sizeof *c);
  if (c == NULL) return napi_throw_error(env, "E_NATIVE", "herd_native: out of memory"), NULL;
  c->wk.fd = -1;
  int err = wire_init(&c->w, max_packet);
  if (err == 0) err = wake_init(&c->wk, c->w.epfd);
  uv_loop_t *loop = NULL;
  c->poll = malloc(sizeof *c->poll);
  c->kick = malloc(sizeof *c->kick);
  if (err || c->poll == NULL || c->kick == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, c->poll, c->w.epfd) != 0 || deadlines_init(&c->dl, &c->w, loop, on_deadlines, c) != 0) {
    free(c->poll);
    free(c->kick);
    c->poll = NULL;
    c->kick = NULL;
    shut(c);
    free(c);
    return napi_throw_error(env, "E_NATIVE", "herd_native: cannot create the epoll core"), NULL;
  }
  c->env = env;
  c->poll->data = c;
  uv_idle_init(loop, c->kick); /* an idle handle holds the loop open only while started */
  c->kick->data = c;
  uv_poll_start(c->poll, UV_READABLE, on_poll);
  uv_unref((uv_handle_t *)c->poll);
  CHECK(napi_create_reference(env, argv[0], 1, &c->on_batch));
  napi_valuetype wt = napi_undefined;
  if (argc > 2 && napi_typeof(env, argv[2], &wt) == napi_ok && wt == napi_function)
    CHECK(napi_create_reference(env, argv[2], 1, &c->wk.fn)); /* optional: tests of the wire alone pass none */
  CHECK(napi_create_string_utf8(env, "herd-native", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &c->async));
  CHECK(napi_create_external(env, c, finalize, NULL, &out));
  return out;
}

/* open(core, id, ip, port, sourceIp | null, connectPacket, protocolVersion, connectTimeoutMs, tlsFollows) → 0 or errno */
static napi_value open_conn(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct core *c = core_arg(env, argv[0]);
  if (c == NULL) return NULL;
  uint32_t id, port, version, timeout_ms;
  CHECK(napi_get_value_uint32(env, argv[1], &id));
  CHECK(napi_get_value_uint32(env, argv[7], &timeout_ms));
  CHECK(napi_get_value_uint32(env, argv[3], &port));
  CHECK(napi_get_value_uint32(env, argv[6], &version));
  bool tls_follows = false;
  CHECK(napi_get_value_bool(env, argv[8], &tls_follows));
  struct sockaddr_storage dst, src;
  socklen_t dlen = 0, slen = 0;
  napi_valuetype st;
  CHECK(napi_typeof(env, argv[4], &st));
  if (binding_parse_addr(env, argv[2], port, &dst, &dlen) != 0 || (st == napi_string && binding_parse_addr(env, argv[4], 0, &src, &slen) != 0)) {
    return napi_throw_type_error(env, "E_NATIVE", "herd_native.open: ip and sourceIp must be IP literals"), NULL;
  }
  void *pkt;
  size_t pkt_len;
  CHECK(napi_get_buffer_info(env, argv[5], &pkt, &pkt_len));
  int err = wire_open(&c->w, id, (struct sockaddr *)&dst, dlen, st == napi_string ? (struct sockaddr *)&src : NULL, slen,
                      pkt, (uint32_t)pkt_len, (uint8_t)version, tls_follows);
  if (err == 0 && (err = deadlines_add(&c->dl, id, timeout_ms)) != 0) wire_abort(&c->w, id, 0);
  after_call(c);
  CHECK(napi_create_int32(env, err, &out));
  return out;
}

/* ping/end/abort/reset/silence/detach(core, id), closeDetached(core, k): one call each, by the device's slot. */
static napi_value by_id(napi_env env, napi_callback_info info, int op) {
  size_t argc = 2;
  napi_value argv[2], out = NULL;
  uint32_t id;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct core *c = core_arg(env, argv[0]);
  if (c == NULL) return NULL;
  CHECK(napi_get_value_uint32(env, argv[1], &id));
  if (op == 0) wire_ping(&c->w, id);
  else if (op == 1) wire_end(&c->w, id);
  else if (op == 2) wire_abort(&c->w, id, 0);
  else if (op == 3) wire_abort(&c->w, id, 1);
  else if (op == 4) wire_silence(&c->w, id);
  else if (op == 7) CHECK(napi_create_int32(env, wire_detach(&c->w, id), &out));
  else if (op == 8) wire_close_dark(&c->w, id);
  else CHECK(napi_create_uint32(env, wire_buffered(&c->w, id), &out));
  update_ref(c);
  return out;
}
static napi_value ping(napi_env env, napi_callback_info i) { return by_id(env, i, 0); }
static napi_value end(napi_env env, napi_callback_info i) { return by_id(env, i, 1); }
static napi_value abort_conn(napi_env env, napi_callback_info i) { return by_id(env, i, 2); }
static napi_value reset(napi_env env, napi_callback_info i) { return by_id(env, i, 3); }
static napi_value silence(napi_env env, napi_callback_info i) { return by_id(env, i, 4); }
static napi_value buffered(napi_env env, napi_callback_info i) { return by_id(env, i, 6); }
static napi_value detach(napi_env env, napi_callback_info i) { return by_id(env, i, 7); }
static napi_value close_detached(napi_env env, napi_callback_info i) { return by_id(env, i, 8); }

/* close(core): every socket closed at once, the poll handle released. */
static napi_value close_core(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *p = NULL;
  CHECK(napi_get_value_external(env, argv[0], &p));
  if (p != NULL) shut(p);
  return NULL;
}

/* stats(core) → [live connections, bytes the core holds, connect deadlines queued] */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct core *c = core_arg(env, argv[0]);
  if (c == NULL) return NULL;
  CHECK(napi_create_array_with_length(env, 4, &out));
  CHECK(napi_create_double(env, c->w.live, &v));
  CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_double(env, (double)(wire_bytes(&c->w) + tls_cfgs_bytes(&c->tls) + deadlines_bytes(&c->dl)), &v));
  CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_uint32(env, deadlines_queued(&c->dl), &v));
  CHECK(napi_set_element(env, out, 2, v));
  CHECK(napi_get_boolean(env, c->behind != 0, &v));
  CHECK(napi_set_element(env, out, 3, v));
  return out;
}

NAPI_MODULE_INIT() {
  napi_value kept; /* onBatch gets (events, count, refs, blob): batch.h */
  if (napi_create_uint32(env, BATCH_KEPT_EVENTS, &kept) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"batchKeptEvents", NULL, NULL, NULL, NULL, kept, napi_enumerable, NULL},
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_conn, NULL, NULL, NULL, napi_default, NULL},
      {"ping", NULL, ping, NULL, NULL, NULL, napi_default, NULL},
      {"end", NULL, end, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, abort_conn, NULL, NULL, NULL, napi_default, NULL},
      {"reset", NULL, reset, NULL, NULL, NULL, napi_default, NULL},
      {"silence", NULL, silence, NULL, NULL, NULL, napi_default, NULL},
      {"detach", NULL, detach, NULL, NULL, NULL, napi_default, NULL},
      {"closeDetached", NULL, close_detached, NULL, NULL, NULL, napi_default, NULL},
      {"bufferedBytes", NULL, buffered, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_core, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"wakeAfter", NULL, binding_wake_after, NULL, NULL, NULL, napi_default, NULL},
      {"nowUs", NULL, binding_now_us, NULL, NULL, NULL, napi_default, NULL},
      {"mallinfo", NULL, binding_mallinfo, NULL, NULL, NULL, napi_default, NULL},
      {"parseSignal", NULL, binding_parse_signal, NULL, NULL, NULL, napi_default, NULL},
      TLS_BINDING_PROPS, /* TLS hook */
      {"publish", NULL, msg_js_publish, NULL, NULL, NULL, napi_default, NULL}, /* msg: */
      {"subscribe", NULL, msg_js_subscribe, NULL, NULL, NULL, napi_default, NULL}, /* msg: */
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
