/*
 * What binding.c shares with msg_js.c (the Node-API face of messaging, kept apart so the connect
 * path's binding and messaging change independently) and binding_tools.c.
 */
#ifndef HERD_BINDING_H
#define HERD_BINDING_H
#include <node_api.h>
#include <stdint.h>
#include <sys/socket.h>

/* Returns NULL from a Node-API callback, with a JavaScript error thrown, when `call` fails. */
#define CHECK(call)                                                                 \
  do {                                                                              \
    if ((call) != napi_ok) {                                                        \
      napi_throw_error(env, "E_NATIVE", "herd_native: " #call " failed");           \
      return NULL;                                                                  \
    }                                                                               \
  } while (0)

struct wire;
/* The open core's wire behind a handle, or NULL with a JavaScript error thrown. */
struct wire *core_wire(napi_env env, napi_value v);
napi_value msg_js_publish(napi_env env, napi_callback_info info);
napi_value msg_js_subscribe(napi_env env, napi_callback_info info);
/* binding_tools.c: nowUs(), parseSignal(body, packetType, pieceBytes), mallinfo(). */
napi_value binding_now_us(napi_env env, napi_callback_info info);
napi_value binding_parse_signal(napi_env env, napi_callback_info info);
napi_value binding_mallinfo(napi_env env, napi_callback_info info);
int binding_parse_addr(napi_env env, napi_value v, uint32_t port, struct sockaddr_storage *ss, socklen_t *len);
#endif
