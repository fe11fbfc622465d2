{
  "targets": [
    {
      "target_name": "herd_native",
      "sources": ["src/wire.c", "src/wire_open.c", "src/wire_io.c", "src/signal.c", "src/tls.c", "src/tls_sessions.c", "src/tls_codes.c", "src/tls_binding.c", "src/msg.c",
                  "src/msg_in.c", "src/msg_js.c", "src/binding.c", "src/binding_tools.c",
                  "src/deadline.c", "src/batch.c", "src/wake.c"],
      "include_dirs": ["<(node_root_dir)/include/node"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
