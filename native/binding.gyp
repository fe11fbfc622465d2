{
  "targets": [
    {
      "target_name": "herd_native",
      "sources": ["src/wire.c", "src/signal.c", "src/binding.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
