/*
 * Fuzzes the MQTT 5 signal reader (native/src/signal.c) on its own, built with AddressSanitizer
 * and UndefinedBehaviorSanitizer by test/unit/native-signal-fuzz.test.ts: random bodies and
 * mutated, cut-short valid ones, CONNACK or DISCONNECT, each copied into a block of exactly its
 * size and fed in pieces of 0–5 bytes (0: whole), so any read past a piece is caught. Every body
 * must end SIG_OK or SIG_BAD once fed whole, and nothing may leak.
 * Usage: signal-fuzz ITERATIONS SEED → prints "ok N bad M"; exits 1 on a reader left wanting more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signal.h"

static uint64_t state;
static uint32_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)state;
}

/* CONNACK 0x9C: Server Keep Alive 9, Server Reference "127:1", User Property a=b, empty Reason String. */
static const uint8_t SEED[] = {0x00, 0x9c, 0x14, 0x13, 0x00, 0x09, 0x1c, 0x00, 0x05, '1', '2', '7',
                               ':',  '1',  0x26, 0x00, 0x01, 'a',  0x00, 0x01, 'b',  0x1f, 0x00, 0x00};

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 100000;
  state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 88172645463325252ULL;
  uint8_t buf[256];
  long ok = 0, bad = 0;
  for (long it = 0; it < iterations; it++) {
    uint32_t n;
    if (rnd() & 1) {
      n = rnd() % 64;
      for (uint32_t i = 0; i < n; i++) buf[i] = (uint8_t)rnd();
    } else {
      memcpy(buf, SEED, sizeof SEED);
      n = sizeof SEED;
      for (uint32_t k = rnd() % 4; k > 0; k--) buf[rnd() % n] = (uint8_t)rnd();
      n = rnd() % (n + 1);
    }
    uint8_t type = (rnd() & 1) ? 2 : 14;
    uint32_t piece = rnd() % 6;
    struct sig_reader r;
    sig_begin(&r, type, n);
    int res = r.result;
    for (uint32_t off = 0; res == SIG_MORE && off < n;) {
      uint32_t k = piece > 0 && piece < n - off ? piece : n - off;
      uint8_t *p = malloc(k);
      memcpy(p, buf + off, k);
      res = sig_feed(&r, p, k);
      free(p);
      off += k;
    }
    if (res == SIG_MORE) {
      fprintf(stderr, "iteration %ld: a %u-byte body fed whole left the reader wanting more\n", it, n);
      return 1;
    }
    if (res == SIG_OK) ok++;
    else bad++;
    sig_free(&r);
  }
  printf("ok %ld bad %ld\n", ok, bad);
  return 0;
}
