/* Connect deadlines in the core (see deadline.h). */
#include "deadline.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wire_int.h"

struct entry {
  uint32_t id, gen;
  uint64_t at; /* loop ms */
};

struct deadline_ring {
  uint32_t timeout_ms;
  uint32_t head, len, cap;
  struct entry *e;
};

static void on_timer(uv_timer_t *t) {
  struct deadlines *d = t->data;
  d->armed_at = 0;
  d->fired(d->ctx); /* reads the sockets, then calls deadlines_run */
}

int deadlines_init(struct deadlines *d, struct wire *w, uv_loop_t *loop, void (*fired)(void *), void *ctx) {
  memset(d, 0, sizeof *d);
  d->w = w;
  d->fired = fired;
  d->ctx = ctx;
  d->timer = malloc(sizeof *d->timer);
  if (d->timer == NULL || uv_timer_init(loop, d->timer) != 0) {
    free(d->timer);
    d->timer = NULL;
    return ENOMEM;
  }
  d->timer->data = d;
  uv_unref((uv_handle_t *)d->timer);
  return 0;
}

static void free_timer(uv_handle_t *h) {
  free(h);
}

void deadlines_free(struct deadlines *d) {
  if (d->timer != NULL) {
    uv_timer_stop(d->timer);
    uv_close((uv_handle_t *)d->timer, free_timer);
    d->timer = NULL;
  }
  for (uint32_t i = 0; i < d->nrings; i++) free(d->rings[i].e);
  free(d->rings);
  d->rings = NULL;
  d->nrings = 0;
}

static struct deadline_ring *ring_for(struct deadlines *d, uint32_t timeout_ms) {
  for (uint32_t i = 0; i < d->nrings; i++)
    if (d->rings[i].timeout_ms == timeout_ms) return &d->rings[i];
  struct deadline_ring *n = realloc(d->rings, (size_t)(d->nrings + 1) * sizeof *n);
  if (n == NULL) return NULL;
  d->rings = n;
  struct deadline_ring *r = &n[d->nrings++];
  memset(r, 0, sizeof *r);
  r->timeout_ms = timeout_ms;
  return r;
}

static int push(struct deadline_ring *r, struct entry e) {
  if (r->len == r->cap) {
    uint32_t cap = r->cap == 0 ? 256 : r->cap * 2;
    struct entry *n = malloc((size_t)cap * sizeof *n);
    if (n == NULL) return ENOMEM;
    for (uint32_t i = 0; i < r->len; i++) n[i] = r->e[(r->head + i) % r->cap]; /* oldest first */
    free(r->e);
    r->e = n;
    r->cap = cap;
    r->head = 0;
  }
  r->e[(r->head + r->len) % r->cap] = e;
  r->len++;
  return 0;
}

/* The loop's clock brought up to date first, as Node's timers read it (Environment::GetNowUint64):
 * the cached loop time can be a whole iteration old (at startup, the time before the modules loaded). */
static uint64_t now_ms(struct deadlines *d) {
  uv_update_time(d->timer->loop);
  return uv_now(d->timer->loop);
}

static void arm(struct deadlines *d, uint64_t at) {
  uint64_t now = now_ms(d);
  d->armed_at = at;
  uv_timer_start(d->timer, on_timer, at > now ? at - now : 0, 0);
}

int deadlines_add(struct deadlines *d, uint32_t id, uint32_t timeout_ms) {
  struct conn *c = id < d->w->cap ? &d->w->conns[id] : NULL;
  if (c == NULL || c->state == ST_FREE) return 0;
  /* Node's timers: a delay below 1 ms is 1 ms. */
  uint32_t ms = timeout_ms < 1 ? 1 : timeout_ms;
  struct deadline_ring *r = ring_for(d, ms);
  if (r == NULL) return ENOMEM;
  uint64_t at = now_ms(d) + ms;
  if (push(r, (struct entry){id, c->gen, at}) != 0) return ENOMEM;
  if (d->armed_at == 0 || at < d->armed_at) arm(d, at);
  return 0;
}

/* Whether the entry's attempt is still the slot's and still waiting for its CONNACK. */
static int pending(const struct wire *w, const struct entry *e) {
  if (e->id >= w->cap) return 0;
  const struct conn *c = &w->conns[e->id];
  return c->gen == e->gen && (c->state == ST_CONNECTING || c->state == ST_HANDSHAKING || c->state == ST_TLS);
}

/* Drops the ring's head, and every stale entry behind it; a drained storm's ring is given back. */
static void pop_stale(struct deadlines *d, struct deadline_ring *r, int first) {
  while (r->len > 0 && (first || !pending(d->w, &r->e[r->head]))) {
    r->head = (r->head + 1) % r->cap;
    r->len--;
    first = 0;
  }
  if (r->len > 0) return;
  r->head = 0;
  if (r->cap > 256) {
    free(r->e);
    r->e = NULL;
    r->cap = 0;
  }
}

/* The ring whose (pending) head expires first, or NULL when every ring is empty. */
static struct deadline_ring *earliest(struct deadlines *d) {
  struct deadline_ring *best = NULL;
  for (uint32_t i = 0; i < d->nrings; i++) {
    struct deadline_ring *r = &d->rings[i];
    if (r->len > 0 && (best == NULL || r->e[r->head].at < best->e[best->head].at)) best = r;
  }
  return best;
}

void deadlines_run(struct deadlines *d) {
  if (d->timer == NULL) return;
  uint64_t now = now_ms(d);
  for (uint32_t i = 0; i < d->nrings; i++) pop_stale(d, &d->rings[i], 0);
  /* Expired attempts in deadline order across timeouts, as Node's timer lists would fire them. */
  struct deadline_ring *r;
  while ((r = earliest(d)) != NULL && r->e[r->head].at <= now) {
    uint32_t id = r->e[r->head].id;
    int phase = wire_tcp_connected(d->w, id);
    wire_flush_tls(d->w, id); /* a handshake done before the timeout still reports (EV_TLS first) */
    wire_abort(d->w, id, 0);
    wire_emit(d->w, id, EV_TIMEOUT, phase, NAN, NAN);
    pop_stale(d, r, 1);
  }
  if (r == NULL) {
    uv_timer_stop(d->timer);
    d->armed_at = 0;
  } else if (d->armed_at == 0 || r->e[r->head].at < d->armed_at) {
    arm(d, r->e[r->head].at); /* a later head leaves an earlier timer alone: it fires once, finds nothing, re-arms */
  }
}

uint32_t deadlines_queued(const struct deadlines *d) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->nrings; i++) n += d->rings[i].len;
  return n;
}

uint64_t deadlines_bytes(const struct deadlines *d) {
  uint64_t n = (uint64_t)d->nrings * sizeof(struct deadline_ring);
  for (uint32_t i = 0; i < d->nrings; i++) n += (uint64_t)d->rings[i].cap * sizeof(struct entry);
  return n;
}
