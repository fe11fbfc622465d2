/*
 * The Node-API face of the native core's TLS (tls.c): a core's TLS settings, made once per cohort
 * target from JavaScript (src/protocols/native/tls.ts), and the calls that put an attempt on one.
 */
#ifndef HERD_TLS_BINDING_H
#define HERD_TLS_BINDING_H
#include <node_api.h>
#include <stdint.h>

#include "tls.h"

/* A core's TLS settings; JavaScript names one by its index + 1 (0: plain TCP). */
struct tls_cfgs {
  struct tls_cfg **v;
  uint32_t n, cap;
};
void tls_cfgs_free(struct tls_cfgs *t);
uint64_t tls_cfgs_bytes(const struct tls_cfgs *t);

/* From binding.c: the open core behind a handle (NULL, with an exception pending, if none), and
 * its poll handle's ref brought up to date after connections came or went. */
struct wire;
struct wire *binding_core(napi_env env, napi_value v, struct tls_cfgs **tls, void **core);
void binding_refresh(void *core);

napi_value tls_config_js(napi_env env, napi_callback_info info);
napi_value tls_use_js(napi_env env, napi_callback_info info);
napi_value tls_has_session_js(napi_env env, napi_callback_info info);
napi_value tls_code_name_js(napi_env env, napi_callback_info info);
napi_value tls_take_done_js(napi_env env, napi_callback_info info);

#define TLS_BINDING_PROPS                                                               \
  {"tlsConfig", NULL, tls_config_js, NULL, NULL, NULL, napi_default, NULL},             \
      {"useTls", NULL, tls_use_js, NULL, NULL, NULL, napi_default, NULL},               \
      {"tlsHasSession", NULL, tls_has_session_js, NULL, NULL, NULL, napi_default, NULL}, \
      {"tlsCodeName", NULL, tls_code_name_js, NULL, NULL, NULL, napi_default, NULL},     \
      {"tlsTakeDone", NULL, tls_take_done_js, NULL, NULL, NULL, napi_default, NULL}
#endif
