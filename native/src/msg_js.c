/* The Node-API face of messaging (see msg.h): publish and subscribe by a device's slot. */
#include <stdlib.h>

#include "binding.h"
#include "msg.h"
#include "wire.h"

/* msg: publish(core, id, topic, payload, flags = qos | retain << 2 | dup << 3, tag) → 0 (QoS 0),
 * the packet id (QoS 1), or -1 when refused (not held, in-flight cap, send buffer full, QoS 2). */
napi_value msg_js_publish(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct wire *w = core_wire(env, argv[0]);
  if (w == NULL) return NULL;
  uint32_t id, flags, tag;
  CHECK(napi_get_value_uint32(env, argv[1], &id));
  CHECK(napi_get_value_uint32(env, argv[4], &flags));
  CHECK(napi_get_value_uint32(env, argv[5], &tag));
  void *payload;
  size_t plen, tlen;
  char tstack[512], *topic = tstack;
  CHECK(napi_get_buffer_info(env, argv[3], &payload, &plen));
  /* One pass for a topic that fits the stack (almost every one). A copy this close to the end may
   * have been cut (before a character of up to 4 bytes): measured, then copied whole. */
  CHECK(napi_get_value_string_utf8(env, argv[2], tstack, sizeof tstack, &tlen));
  if (tlen + 4 >= sizeof tstack) {
    CHECK(napi_get_value_string_utf8(env, argv[2], NULL, 0, &tlen));
    if (tlen >= sizeof tstack && (topic = malloc(tlen + 1)) == NULL)
      return napi_throw_error(env, "E_NATIVE", "herd_native: out of memory"), NULL;
    napi_get_value_string_utf8(env, argv[2], topic, tlen + 1, &tlen);
  }
  uint8_t version;
  struct msg **m = wire_msg(w, id, &version);
  int r = m == NULL || plen > UINT32_MAX - 70000 ? -1
          : msg_publish(w, id, m, version, (const uint8_t *)topic, (uint32_t)tlen, payload, (uint32_t)plen,
                        flags & 3, (flags >> 2) & 1, (flags >> 3) & 1, tag);
  if (topic != tstack) free(topic);
  CHECK(napi_create_int32(env, r, &out));
  return out;
}

/* msg: subscribe(core, id, topics: string[], qos) → the packet id, or -1 when refused. */
napi_value msg_js_subscribe(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct wire *w = core_wire(env, argv[0]);
  if (w == NULL) return NULL;
  uint32_t id, qos, n;
  CHECK(napi_get_value_uint32(env, argv[1], &id));
  CHECK(napi_get_array_length(env, argv[2], &n));
  CHECK(napi_get_value_uint32(env, argv[3], &qos));
  uint8_t version;
  struct msg **m = wire_msg(w, id, &version);
  int r = -1;
  if (m != NULL && n > 0 && n <= 16) {
    /* Topics that fit go into one stack buffer (a device's few topics almost always do); a longer
     * one gets its own allocation. */
    char stack[1024], *topics[16] = {0};
    uint32_t lens[16], used = 0, heap = 0; /* heap: bit i = topics[i] was allocated */
    int ok = 1;
    for (uint32_t i = 0; i < n && ok; i++) {
      size_t len;
      ok = napi_get_element(env, argv[2], i, &v) == napi_ok &&
           napi_get_value_string_utf8(env, v, NULL, 0, &len) == napi_ok;
      if (!ok) break;
      int fits = len + 1 <= sizeof stack - used;
      topics[i] = fits ? stack + used : malloc(len + 1);
      if (!fits) heap |= 1u << i;
      ok = topics[i] != NULL && napi_get_value_string_utf8(env, v, topics[i], len + 1, &len) == napi_ok;
      if (fits) used += (uint32_t)len + 1;
      lens[i] = (uint32_t)len;
    }
    if (ok) r = msg_subscribe(w, id, m, version, (const uint8_t *const *)topics, lens, n, (uint8_t)qos);
    for (uint32_t i = 0; i < n; i++)
      if (heap & (1u << i)) free(topics[i]);
  }
  CHECK(napi_create_int32(env, r, &out));
  return out;
}

