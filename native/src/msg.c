/* See msg.h. Runs on Node's main thread, inside wire.c's and binding.c's calls. */
#include "msg.h"
#include "msg_int.h"

#include "wire.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct msg *msg_state(struct wire *w, struct msg **m) {
  if (*m != NULL) return *m;
  struct msg *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->next_id = 1;
  s->max = MSG_MAX_INFLIGHT;
  w->msg_bytes += sizeof *s;
  *m = s;
  return s;
}

uint32_t msg_partial_bytes(const struct msg *m) {
  return m == NULL ? 0 : m->in_cap;
}

uint32_t msg_bytes(const struct msg *m) {
  if (m == NULL) return 0;
  return (uint32_t)sizeof *m + (uint32_t)m->cap * (uint32_t)sizeof(struct pending) + m->in_cap +
         (m->q2 != NULL ? (uint32_t)m->max * 2 : 0);
}

void msg_free(struct wire *w, struct msg *m) {
  if (m == NULL) return;
  w->msg_bytes -= msg_bytes(m);
  free(m->p);
  free(m->in);
  free(m->q2);
  free(m);
}

void msg_connack(struct wire *w, struct msg **m, uint16_t recv_max) {
  if (recv_max == 0 || recv_max >= MSG_MAX_INFLIGHT) return;
  struct msg *s = msg_state(w, m);
  if (s != NULL) s->max = recv_max;
}

int msg_wants(uint8_t first) {
  int t = first >> 4;
  return (t >= 3 && t <= 7) || t == 9 || t == 11;
}

/* A free packet id with an entry awaiting `awaiting`, or 0 at the cap (the JS path's Inflight.allocate). */
static uint16_t allocate(struct wire *w, struct msg *s, uint8_t awaiting, uint32_t tag) {
  if (s->n >= s->max) return 0;
  if (s->n == s->cap) {
    uint16_t cap = s->cap == 0 ? 2 : s->cap * 2;
    if (cap > s->max) cap = s->max;
    struct pending *p = realloc(s->p, (size_t)cap * sizeof *p);
    if (p == NULL) return 0;
    w->msg_bytes += (uint64_t)(cap - s->cap) * sizeof *p;
    s->p = p;
    s->cap = cap;
  }
  for (;;) {
    uint16_t id = s->next_id;
    s->next_id = (uint16_t)(id % 65535 + 1);
    int used = 0;
    for (uint16_t i = 0; i < s->n && !used; i++) used = s->p[i].pid == id;
    if (used) continue;
    s->p[s->n++] = (struct pending){id, awaiting, 0, tag, wire_now_us()};
    return id;
  }
}

/* The entry for `pid` awaiting `awaiting`, taken out; 0 when nothing waits for it. */
int msg_take(struct msg *s, uint16_t pid, uint8_t awaiting, struct pending *out) {
  if (s == NULL) return 0;
  for (uint16_t i = 0; i < s->n; i++) {
    if (s->p[i].pid != pid || s->p[i].awaiting != awaiting) continue;
    *out = s->p[i];
    s->p[i] = s->p[--s->n]; /* order does not matter: ids are matched, not positions */
    return 1;
  }
  return 0;
}

static uint32_t vbi(uint8_t *o, uint32_t n) {
  uint32_t k = 0;
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    o[k++] = n ? b | 0x80 : b;
  } while (n);
  return k;
}

/* Sends one packet: header + `len` body bytes; 0, or -1 past the send-buffer cap (nothing sent). */
static int send_packet(struct wire *w, uint32_t id, uint8_t first, uint32_t len, const uint8_t *const *parts,
                       const uint32_t *lens, uint32_t nparts) {
  uint8_t stackbuf[2048];
  uint32_t total = 5 + len;
  uint8_t *buf = total <= sizeof stackbuf ? stackbuf : malloc(total);
  if (buf == NULL) return -1;
  buf[0] = first;
  uint32_t off = 1 + vbi(buf + 1, len);
  for (uint32_t i = 0; i < nparts; i++) {
    if (lens[i] > 0) memcpy(buf + off, parts[i], lens[i]);
    off += lens[i];
  }
  int r = wire_send(w, id, buf, off, MSG_MAX_BUFFERED);
  if (buf != stackbuf) free(buf);
  return r;
}

int msg_publish(struct wire *w, uint32_t id, struct msg **m, uint8_t version, const uint8_t *topic, uint32_t tlen,
                const uint8_t *payload, uint32_t plen, uint8_t qos, uint8_t retain, uint8_t dup, uint32_t tag) {
  if (qos > 1 || tlen > 65535) return -1;
  uint16_t pid = 0;
  struct msg *s = NULL;
  if (qos == 1) {
    s = msg_state(w, m);
    if (s == NULL || (pid = allocate(w, s, AW_PUBACK, tag)) == 0) return -1;
  }
  uint8_t head[2] = {(uint8_t)(tlen >> 8), (uint8_t)tlen}, ids[3] = {(uint8_t)(pid >> 8), (uint8_t)pid, 0};
  uint32_t idlen = (qos ? 2 : 0) + (version == 5 ? 1 : 0); /* packet id, MQTT 5 property length 0 */
  const uint8_t *parts[4] = {head, topic, qos ? ids : ids + 2, payload};
  uint32_t lens[4] = {2, tlen, idlen, plen};
  uint8_t first = (uint8_t)(0x30 | (dup && qos ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0));
  if (send_packet(w, id, first, 2 + tlen + idlen + plen, parts, lens, 4) != 0) {
    struct pending gone;
    if (pid) msg_take(s, pid, AW_PUBACK, &gone);
    return -1;
  }
  return pid;
}

int msg_subscribe(struct wire *w, uint32_t id, struct msg **m, uint8_t version, const uint8_t *const *topics,
                  const uint32_t *tlens, uint32_t n, uint8_t qos) {
  if (n == 0 || n > 16 || qos > 2) return -1;
  struct msg *s = msg_state(w, m);
  uint16_t pid = s == NULL ? 0 : allocate(w, s, AW_SUBACK, 0);
  if (pid == 0) return -1;
  uint8_t ids[3] = {(uint8_t)(pid >> 8), (uint8_t)pid, 0}, heads[16][2], opt = qos;
  const uint8_t *parts[1 + 3 * 16];
  uint32_t lens[1 + 3 * 16], len = version == 5 ? 3 : 2, k = 0;
  parts[k] = ids, lens[k++] = len;
  for (uint32_t i = 0; i < n; i++) {
    if (tlens[i] > 65535) return msg_take(s, pid, AW_SUBACK, &(struct pending){0}), -1;
    heads[i][0] = (uint8_t)(tlens[i] >> 8), heads[i][1] = (uint8_t)tlens[i];
    parts[k] = heads[i], lens[k++] = 2;
    parts[k] = topics[i], lens[k++] = tlens[i];
    parts[k] = &opt, lens[k++] = 1;
    len += 3 + tlens[i];
  }
  if (send_packet(w, id, 0x82, len, parts, lens, k) != 0) return msg_take(s, pid, AW_SUBACK, &(struct pending){0}), -1;
  return pid;
}

uint8_t *wire_blob(struct wire *w, uint32_t n) {
  if ((uint64_t)w->blob_len + n > w->blob_cap) {
    uint64_t cap = w->blob_cap < 4096 ? 4096 : (uint64_t)w->blob_cap * 2;
    while (cap < (uint64_t)w->blob_len + n) cap *= 2;
    if (cap > UINT32_MAX) return NULL;
    uint8_t *p = realloc(w->blob, cap);
    if (p == NULL) return NULL;
    w->blob = p;
    w->blob_cap = (uint32_t)cap;
  }
  uint8_t *o = w->blob + w->blob_len;
  w->blob_len += n;
  return o;
}

const uint8_t *msg_gather(struct wire *w, struct msg **m, uint32_t rem, const uint8_t *b, uint32_t n, int *err) {
  struct msg *s = msg_state(w, m);
  if (s == NULL) return *err = ENOMEM, NULL;
  if (s->in_len + n > s->in_cap) {
    /* Grown as bytes arrive, never past rem (≤ maxPacketBytes, checked before any body byte): a
     * server that announces a large packet and sends little costs what it sent. */
    uint32_t cap = s->in_cap < 256 ? 256 : s->in_cap * 2;
    if (cap < s->in_len + n) cap = s->in_len + n;
    if (cap > rem) cap = rem;
    uint8_t *p = realloc(s->in, cap);
    if (p == NULL) return *err = ENOMEM, NULL;
    w->msg_bytes += cap - s->in_cap;
    s->in = p;
    s->in_cap = cap;
  }
  memcpy(s->in + s->in_len, b, n);
  s->in_len += n;
  if (s->in_len < rem) return NULL;
  return s->in;
}

/* Frees a gathered body once its packet was handled. */
void msg_release_in(struct wire *w, struct msg *s) {
  if (s == NULL || s->in == NULL) return;
  w->msg_bytes -= s->in_cap;
  free(s->in);
  s->in = NULL;
  s->in_len = s->in_cap = 0;
}

