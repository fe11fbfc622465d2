/*
 * The native storm core's socket side, free of Node: per-device connections on one epoll set,
 * each a ~48-byte record indexed by the engine's slot, and a streaming MQTT reader that keeps at
 * most 6 bytes of any packet (so a peer sending garbage, huge packets or nothing cannot grow memory)
 * — but for an MQTT 5 CONNACK or DISCONNECT, whose properties signal.c reads as they stream by,
 * keeping only a Server Reference's bytes. Outcomes are queued as fixed-size events; binding.c hands
 * them to JavaScript in batches, with the Server References of the batch's signals beside them.
 */
#ifndef HERD_WIRE_H
#define HERD_WIRE_H
#include <stdint.h>
#include <sys/socket.h>

/* Event kinds, mirrored in src/protocols/native/codes.ts. */
/* EV_SIGNAL: the MQTT 5 CONNACK/DISCONNECT signal (sig_event()) of the event that follows it. */
/* EV_READY t1/t2, EV_FAILED t1 and EV_TLS t1 are µs since the attempt's socket was opened (wire_open), on one
 * clock: TCP connected and CONNACK; TCP connected (NaN if never); TLS done. The owner adds them to its own
 * stamp of the open, so no reading of two clocks can put a phase before the attempt or make it negative. */
/* EV_TLS (TLS hook): handshake done; code = TLS_RESUMED | TLS_KEY_EXCHANGE bits (tls.h), t1 = when; queued right
 * before the attempt's next event (CONNACK's or a failure's), so it never costs a batch of its own. */
enum { EV_READY = 1, EV_FAILED = 2, EV_LOST = 3, EV_CLOSED = 4, EV_PONG = 5, EV_SIGNAL = 6, EV_TLS = 7 };
/* msg.c (messaging): EV_PUBACK code = packet id | reason code << 16, t1 = µs since PUBLISH, t2 = tag;
 * EV_SUBACK code = packet id + return codes × 65536, t1 = µs since SUBSCRIBE, t2 = their blob offset;
 * EV_MESSAGE code = QoS | retain << 2 | dup << 3, t1 = received (µs), t2 = blob offset of
 * [topic length u16][topic][payload length u32][payload]. */
enum { EV_PUBACK = 8, EV_SUBACK = 9, EV_MESSAGE = 10 };
/* deadline.c: a pending attempt's connect timeout ran out (its socket closed); code = the phase it was in:
 * 0 TCP connect, 1 CONNACK, 2 TLS handshake (wire_tcp_connected). */
enum { EV_TIMEOUT = 11 };

/* Outcome codes beyond errno values (< 1000), mirrored in codes.ts. */
#define CODE_CONNACK 1000 /* + return/reason code */
#define CODE_DISCONNECT 2000 /* + reason code */
enum {
  CODE_CLOSED_BEFORE_CONNACK = 3001,
  CODE_PEER_CLOSED = 3002,
  CODE_MALFORMED_PACKET = 3003,
  CODE_PACKET_TOO_LARGE = 3004,
  CODE_MALFORMED_LENGTH = 3005,
  CODE_UNEXPECTED_PACKET = 3006,
  CODE_CLOSED_DURING_CONNECT = 3007,
  CODE_SEND_BUFFER_FULL = 3010, /* msg.c: an acknowledgement did not fit the send buffer */
  CODE_RECEIVE_MAXIMUM_EXCEEDED = 3011, /* msg.c: more inbound QoS 2 awaiting PUBREL than the cap */
};

/* One outcome: device slot, kind, code, and up to two µs timestamps (monotonic clock). */
struct wire_event {
  double id, kind, code, t1_us, t2_us;
};

struct conn;

struct wire {
  int epfd;
  struct conn *conns;
  uint32_t cap;
  uint32_t max_packet_bytes;
  uint32_t live;    /* connections with an open fd */
  uint64_t out_bytes; /* CONNECT bytes not yet written, all connections */
  struct wire_event *evs;
  uint32_t nev, evcap;
  /* The Server References of the queued EV_SIGNAL events that carry one, in event order. */
  uint8_t **refs;
  uint32_t *ref_lens;
  uint32_t nref;
  /* msg.c: the batch's inbound bytes (EV_MESSAGE, EV_SUBACK point into it), and what messaging holds. */
  uint8_t *blob;
  uint32_t blob_len, blob_cap;
  uint64_t msg_bytes;
  /* Sockets of abandoned (dark) connections detached from their slot (wire_detach), -1 once closed. */
  int32_t *dark;
  uint32_t ndark, darkcap, open_dark;
};

double wire_now_us(void);
int wire_init(struct wire *w, uint32_t max_packet_bytes);
void wire_free(struct wire *w);
/* Starts an attempt; 0, or the errno of a failure before anything was sent (EMFILE, EADDRNOTAVAIL…). A socket
 * connected when connect() returns sends CONNECT at once, unless `tls_follows` (wire_use_tls comes next). */
int wire_open(struct wire *w, uint32_t id, const struct sockaddr *dst, socklen_t dlen, const struct sockaddr *src,
              socklen_t slen, const uint8_t *connect_pkt, uint32_t pkt_len, uint8_t version, int tls_follows);
/* TLS hook: makes the attempt just opened on `id` a TLS one (tls.c); 0, or an outcome code (the attempt dropped).
 * Connected already, its ClientHello goes at once: a failure then is queued as an outcome (binding.c delivers it
 * on the loop's next turn). */
struct tls_cfg;
int wire_use_tls(struct wire *w, uint32_t id, struct tls_cfg *cfg, int offer_session);
/* TLS hook: the EV_TLS code of a done handshake on `id` not yet reported (taken: it will not be), else -1. */
int wire_take_tls(struct wire *w, uint32_t id);
/* TLS hook: queues EV_TLS for a done handshake on `id` not yet reported; call it before queueing an
 * outcome of the attempt from outside wire.c/wire_io.c (whose emit() does it), e.g. a timeout. */
void wire_flush_tls(struct wire *w, uint32_t id);
/* Handles one epoll event (data = id | gen << 32). */
void wire_handle(struct wire *w, uint64_t data, uint32_t events);
void wire_ping(struct wire *w, uint32_t id);
void wire_end(struct wire *w, uint32_t id);
void wire_abort(struct wire *w, uint32_t id, int rst);
void wire_silence(struct wire *w, uint32_t id);
/* A reboot: the silenced connection of `id` leaves its slot (free for the next attempt) with its
 * socket still open, unread, for the peer to close or take over; its index for wire_close_dark, or
 * -1 when the slot holds no silenced connection (or on ENOMEM: the caller's next open closes it). */
int wire_detach(struct wire *w, uint32_t id);
void wire_close_dark(struct wire *w, uint32_t k);
/* 1 once TCP connected (an attempt waiting for CONNACK, or later); 2 while its TLS handshake runs. */
int wire_tcp_connected(const struct wire *w, uint32_t id);
/* Bytes one connection holds beyond its fixed record: unsent CONNECT and kept packet-head bytes (≤ 6). */
uint32_t wire_buffered(const struct wire *w, uint32_t id);
/* Hands the queued Server References to `take` (in order) and empties the list. */
void wire_take_refs(struct wire *w, void (*take)(void *ctx, const uint8_t *s, uint32_t n), void *ctx);
/* ---- for msg.c (messaging on held connections) ---- */
void wire_emit(struct wire *w, uint32_t id, int kind, double code, double t1, double t2);
/* Writes on held connection `id` in order, keeping what the socket does not take (≤ `cap` bytes
 * pending); 0, or -1 when it would pass `cap` or the connection is not held (nothing written). */
int wire_send(struct wire *w, uint32_t id, const uint8_t *b, uint32_t n, uint32_t cap);
/* `n` bytes at the end of the batch's blob (NULL on ENOMEM; in msg.c); offsets stay valid until delivery. */
uint8_t *wire_blob(struct wire *w, uint32_t n);
/* A held (or silenced) connection's messaging state and MQTT version (NULL otherwise). */
struct msg **wire_msg(struct wire *w, uint32_t id, uint8_t *version);
/* After a delivery: an event queue a message flood grew goes back to its usual size. */
void wire_trim_events(struct wire *w);

/* Bytes the core itself holds: the connection table, unsent CONNECTs and the event queue. */
uint64_t wire_bytes(const struct wire *w);
#endif
