/*
 * The core's exports that need no core: the monotonic clock, the MQTT 5 signal reader on its own
 * (for tests) and glibc's malloc figures (for the memory bench); and open()'s IP literal parser.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <malloc.h>
#include <node_api.h>
#include <string.h>

#include "binding.h"
#include "signal.h"
#include "wire.h"

napi_value binding_now_us(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_double(env, wire_now_us(), &out));
  return out;
}

/*
 * parseSignal(body, packetType, pieceBytes) → [code, t1, t2, reference | null], or null when
 * malformed: the reader wire.c runs, fed `body` in pieces of `pieceBytes`, for tests
 * (test/unit/native-signal.test.ts) to hold against the JavaScript path's reader.
 */
napi_value binding_parse_signal(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out, v;
  uint32_t type, piece;
  void *body;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_buffer_info(env, argv[0], &body, &len));
  CHECK(napi_get_value_uint32(env, argv[1], &type));
  CHECK(napi_get_value_uint32(env, argv[2], &piece));
  struct sig_reader r;
  sig_begin(&r, (uint8_t)type, (uint32_t)len);
  int res = r.result;
  for (size_t off = 0; res == SIG_MORE && off < len; off += piece > 0 ? piece : len) {
    size_t n = piece > 0 && piece < len - off ? piece : len - off;
    res = sig_feed(&r, (const uint8_t *)body + off, (uint32_t)n);
  }
  if (res != SIG_OK) {
    sig_free(&r);
    CHECK(napi_get_null(env, &out));
    return out;
  }
  double num[3];
  sig_event(&r, &num[0], &num[1], &num[2]);
  CHECK(napi_create_array_with_length(env, 4, &out));
  for (uint32_t i = 0; i < 3; i++) {
    CHECK(napi_create_double(env, num[i], &v));
    CHECK(napi_set_element(env, out, i, v));
  }
  if (r.has & HAS_REFERENCE) napi_create_string_utf8(env, r.ref_len > 0 ? (const char *)r.ref : "", r.ref_len, &v);
  else napi_get_null(env, &v);
  sig_free(&r);
  CHECK(napi_set_element(env, out, 3, v));
  return out;
}

/* mallinfo() → [arena bytes (brk), mmapped bytes, bytes in use, bytes free]: glibc's malloc, all
 * arenas, for the memory bench (bench/memory.js) to tell malloc's share of RSS from V8's. */
napi_value binding_mallinfo(napi_env env, napi_callback_info info) {
  struct mallinfo2 m = mallinfo2();
  double v[4] = {(double)m.arena, (double)m.hblkhd, (double)m.uordblks, (double)m.fordblks};
  napi_value out, x;
  CHECK(napi_create_array_with_length(env, 4, &out));
  for (uint32_t i = 0; i < 4; i++) {
    CHECK(napi_create_double(env, v[i], &x));
    CHECK(napi_set_element(env, out, i, x));
  }
  return out;
}

/* An IP literal (v4 or v6) and port as a socket address: 0, or -1 when `v` is not one. */
int binding_parse_addr(napi_env env, napi_value v, uint32_t port, struct sockaddr_storage *ss, socklen_t *len) {
  char ip[64];
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, ip, sizeof ip, &n) != napi_ok) return -1;
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return 0;
  }
  if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *len = sizeof *a6;
    return 0;
  }
  return -1;
}
