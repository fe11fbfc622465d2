/*
 * What binding.c shares with msg_js.c (the Node-API face of messaging, kept apart so the connect
 * path's binding and messaging change independently).
 */
#ifndef HERD_BINDING_H
#define HERD_BINDING_H
#include <node_api.h>

struct wire;
/* The open core's wire behind a handle, or NULL with a JavaScript error thrown. */
struct wire *core_wire(napi_env env, napi_value v);
napi_value msg_js_publish(napi_env env, napi_callback_info info);
napi_value msg_js_subscribe(napi_env env, napi_callback_info info);
#endif
