/*
 * The scheduler's wake-up on the core's own epoll set: one timerfd (CLOCK_MONOTONIC, µs) instead
 * of Node's millisecond timers, which fire up to a millisecond early or late and wake the loop twice
 * for one attempt. Armed relative to now; when it expires the core calls JavaScript's onWake once,
 * after the batch of outcomes the same wake-up found (binding.c on_poll).
 */
#ifndef HERD_WAKE_H
#define HERD_WAKE_H
#include <node_api.h>
#include <stdint.h>

/* The epoll tag of the timerfd: no connection's (id | generation << 32) is all ones. */
#define WAKE_TAG UINT64_MAX

struct wake {
  int fd; /* -1 until wake_init */
  int armed;
  napi_ref fn; /* onWake */
};

/* 0, or an errno: the timerfd could not be made or added to `epfd`. */
int wake_init(struct wake *k, int epfd);
void wake_free(napi_env env, struct wake *k);
/* Fires once, `after_us` µs from now (at least 1); a later call replaces an earlier one. */
void wake_arm(struct wake *k, uint64_t after_us);
void wake_disarm(struct wake *k);
/* The timerfd was readable: 1 if it expired (then disarmed), 0 if not. */
int wake_take(struct wake *k);
/* Calls onWake (no arguments), surfacing an exception it threw. */
void wake_call(napi_env env, napi_async_context async, struct wake *k);
/* wakeAfter(core, us): arms the wake-up `us` µs from now; us < 0 disarms it. */
napi_value binding_wake_after(napi_env env, napi_callback_info info);
/* binding.c: the open core's wake behind a handle (NULL with a JavaScript error thrown), and a ref refresh. */
struct wake *binding_wake(napi_env env, napi_value v, void **core);
void binding_refresh(void *core);
#endif
