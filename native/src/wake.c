/* The scheduler's µs wake-up on the core's epoll set (wake.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "binding.h"
#include "wake.h"

int wake_init(struct wake *k, int epfd) {
  k->armed = 0;
  k->fn = NULL;
  k->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (k->fd < 0) return errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, k->fd, &ev) != 0) {
    int err = errno;
    close(k->fd);
    k->fd = -1;
    return err;
  }
  return 0;
}

void wake_free(napi_env env, struct wake *k) {
  if (k->fd >= 0) close(k->fd); /* closing removes it from the epoll set */
  k->fd = -1;
  k->armed = 0;
  if (k->fn != NULL && env != NULL) napi_delete_reference(env, k->fn);
  k->fn = NULL;
}

static void settime(struct wake *k, uint64_t ns) {
  struct itimerspec t = {.it_value = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)}};
  if (k->fd >= 0) timerfd_settime(k->fd, 0, &t, NULL);
}

void wake_arm(struct wake *k, uint64_t after_us) {
  settime(k, (after_us > 0 ? after_us : 1) * 1000u);
  k->armed = k->fd >= 0;
}

void wake_disarm(struct wake *k) {
  if (!k->armed) return;
  settime(k, 0); /* an all-zero it_value disarms */
  k->armed = 0;
}

int wake_take(struct wake *k) {
  uint64_t expirations = 0;
  if (k->fd < 0 || read(k->fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations) return 0;
  k->armed = 0;
  return expirations > 0;
}

void wake_call(napi_env env, napi_async_context async, struct wake *k) {
  if (k->fn == NULL) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, k->fn, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok &&
      napi_make_callback(env, async, recv, fn, 0, NULL, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err); /* a bug in the scheduler: surface it, never swallow it */
  }
  napi_close_handle_scope(env, scope);
}

napi_value binding_wake_after(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  double us = -1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *core = NULL;
  struct wake *k = binding_wake(env, argv[0], &core);
  if (k == NULL) return NULL;
  CHECK(napi_get_value_double(env, argv[1], &us));
  if (us < 0 || us != us) wake_disarm(k);
  else wake_arm(k, us > 1e15 ? (uint64_t)1e15 : (uint64_t)us);
  binding_refresh(core);
  return NULL;
}
