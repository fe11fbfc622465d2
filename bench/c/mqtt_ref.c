/*
 * mqtt_ref: the machine's reference for "how fast can anything open MQTT sessions here".
 *
 * A minimal single-threaded epoll client: non-blocking connect, one pre-built MQTT 3.1.1 CONNECT
 * per device, a 4-byte CONNACK check, at most --inflight handshakes at once, every session held
 * until --hold-ms has passed, then a clean end (DISCONNECT, let the server close first so
 * TIME_WAIT stays on its side). Optional source-address spreading with IP_BIND_ADDRESS_NO_PORT,
 * so binding a source address does not reserve a port before the destination is known.
 *
 * It prints one JSON object on stdout. It only ever connects to a 127.0.0.0/8 address.
 *
 *   mqtt_ref --port 1883 --count 10000 --inflight 64 --source-ips 127.0.0.2-127.0.0.20
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { S_IDLE = 0, S_CONNECTING, S_HANDSHAKING, S_CONNECTED, S_CLOSING, S_DONE };

/* Per-device state kept small on purpose: it is part of the bytes-per-connection figure. */
struct conn {
  int fd;
  uint8_t state;
  uint8_t got; /* CONNACK bytes received so far */
  uint8_t ack[4];
  uint32_t started_ms; /* ms since t0, for the handshake timeout */
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

/* Kernel time alone: the share of cpu_s() spent in system calls and the loopback handshake. */
static double sys_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static void die(const char *msg) {
  fprintf(stderr, "mqtt_ref: %s\n", msg);
  exit(2);
}

static int parse_ipv4(const char *s, uint32_t *out) {
  struct in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) return -1;
  *out = ntohl(a.s_addr);
  return 0;
}

/* "a,b,c" or "lo-hi" (IPv4, loopback only). */
static uint32_t *parse_sources(const char *spec, int *count) {
  uint32_t *out = calloc(4096, sizeof(uint32_t));
  char *copy = strdup(spec), *save = NULL;
  int n = 0;
  for (char *part = strtok_r(copy, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
    char *dash = strchr(part, '-');
    uint32_t lo, hi;
    if (dash != NULL) {
      *dash = '\0';
      if (parse_ipv4(part, &lo) || parse_ipv4(dash + 1, &hi) || hi < lo) die("--source-ips: bad range");
    } else {
      if (parse_ipv4(part, &lo)) die("--source-ips: bad address");
      hi = lo;
    }
    for (uint32_t a = lo; a <= hi && n < 4096; a++) {
      if ((a >> 24) != 127) die("--source-ips: only 127.0.0.0/8 addresses are allowed");
      out[n++] = a;
    }
  }
  free(copy);
  if (n == 0) die("--source-ips: no addresses");
  *count = n;
  return out;
}

/* MQTT 3.1.1 CONNECT: clean session, keepalive, client id only. Returns its length. */
static int build_connect(uint8_t *p, const char *client_id, int keepalive_s) {
  int idlen = (int)strlen(client_id);
  int remaining = 10 + 2 + idlen;
  int i = 0;
  p[i++] = 0x10;
  p[i++] = (uint8_t)remaining; /* ids are short: one length byte */
  p[i++] = 0; p[i++] = 4; p[i++] = 'M'; p[i++] = 'Q'; p[i++] = 'T'; p[i++] = 'T';
  p[i++] = 4;    /* protocol level 3.1.1 */
  p[i++] = 0x02; /* clean session */
  p[i++] = (uint8_t)(keepalive_s >> 8); p[i++] = (uint8_t)keepalive_s;
  p[i++] = (uint8_t)(idlen >> 8); p[i++] = (uint8_t)idlen;
  memcpy(p + i, client_id, (size_t)idlen);
  return i + idlen;
}

#define PKT_SLOT 64

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *sources_spec = NULL, *prefix = "ref";
  int port = 0, count = 1000, inflight = 64, hold_ms = 0, timeout_ms = 10000, keepalive_s = 60;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) die("every option takes a value");
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--count")) count = atoi(v);
    else if (!strcmp(a, "--inflight")) inflight = atoi(v);
    else if (!strcmp(a, "--hold-ms")) hold_ms = atoi(v);
    else if (!strcmp(a, "--timeout-ms")) timeout_ms = atoi(v);
    else if (!strcmp(a, "--keepalive-s")) keepalive_s = atoi(v);
    else if (!strcmp(a, "--source-ips")) sources_spec = v;
    else if (!strcmp(a, "--client-prefix")) prefix = v;
    else die("unknown option");
    i++;
  }
  uint32_t dst;
  if (parse_ipv4(host, &dst) || (dst >> 24) != 127) die("--host: only 127.0.0.0/8 addresses are allowed");
  if (port <= 0 || port > 65535 || count <= 0 || inflight <= 0 || strlen(prefix) > 30) die("bad --port, --count, --inflight or --client-prefix");

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int nsrc = 0;
  uint32_t *sources = sources_spec ? parse_sources(sources_spec, &nsrc) : NULL;

  /* Baseline before any per-device memory: per-device state is part of the figure. */
  long rss_before = rss_bytes();
  struct conn *c = calloc((size_t)count, sizeof(struct conn));
  uint8_t *pkts = malloc((size_t)count * PKT_SLOT);
  uint8_t *pkt_len = malloc((size_t)count);
  if (c == NULL || pkts == NULL || pkt_len == NULL) die("out of memory");
  char id[64];
  for (int i = 0; i < count; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    pkt_len[i] = (uint8_t)build_connect(pkts + (size_t)i * PKT_SLOT, id, keepalive_s);
    c[i].fd = -1;
  }

  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1 failed");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = {htonl(dst)}};
  struct epoll_event evs[1024];
  int next = 0, active = 0, connected = 0, failed = 0, timed_out = 0, lost = 0;
  int err_refused = 0, err_addr = 0, err_files = 0, err_other = 0, err_rejected = 0;
  double t0 = now_s(), cpu0 = cpu_s(), sys0 = sys_s(), t_last = t0;
  double t_all_done = 0, cpu_done = 0, sys_done = 0;
  long rss_held = -1;

  for (;;) {
    /* Launch up to the in-flight cap. */
    while (next < count && active < inflight) {
      int i = next++;
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) err_files++; else err_other++;
        failed++;
        c[i].state = S_DONE;
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (nsrc > 0) {
        struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(sources[i % nsrc])}};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&from, sizeof from) < 0) {
          err_addr++;
          failed++;
          close(fd);
          c[i].state = S_DONE;
          continue;
        }
      }
      int r = connect(fd, (struct sockaddr *)&to, sizeof to);
      if (r < 0 && errno != EINPROGRESS) {
        if (errno == ECONNREFUSED) err_refused++;
        else if (errno == EADDRNOTAVAIL) err_addr++;
        else err_other++;
        failed++;
        close(fd);
        c[i].state = S_DONE;
        continue;
      }
      c[i].fd = fd;
      c[i].state = S_CONNECTING;
      c[i].started_ms = (uint32_t)((now_s() - t0) * 1000);
      struct epoll_event ev = {.events = EPOLLOUT, .data = {.u32 = (uint32_t)i}};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      active++;
    }
    if (active == 0 && next >= count && t_all_done == 0) {
      t_all_done = now_s();
      cpu_done = cpu_s();
      sys_done = sys_s();
      t_last = t_all_done;
      break;
    }
    int n = epoll_wait(ep, evs, 1024, 100);
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      struct conn *x = &c[i];
      if (x->state == S_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0 || (evs[k].events & (EPOLLERR | EPOLLHUP))) {
          if (soerr == ECONNREFUSED) err_refused++; else err_other++;
          goto fail;
        }
        ssize_t w = write(x->fd, pkts + (size_t)i * PKT_SLOT, pkt_len[i]);
        if (w != pkt_len[i]) { err_other++; goto fail; }
        x->state = S_HANDSHAKING;
        struct epoll_event ev = {.events = EPOLLIN, .data = {.u32 = (uint32_t)i}};
        epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
      } else if (x->state == S_HANDSHAKING) {
        ssize_t r = read(x->fd, x->ack + x->got, (size_t)(4 - x->got));
        if (r <= 0) {
          if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          err_other++;
          goto fail;
        }
        x->got = (uint8_t)(x->got + r);
        if (x->got < 4) continue;
        if (x->ack[0] != 0x20 || x->ack[1] != 0x02 || x->ack[3] != 0x00) { err_rejected++; goto fail; }
        x->state = S_CONNECTED;
        connected++;
        active--;
        t_last = now_s();
      } else if (x->state == S_CONNECTED) {
        lost++; /* the server closed or sent something while we hold: count it, drop it */
        epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
        close(x->fd);
        x->fd = -1;
        x->state = S_DONE;
        connected--;
      }
      continue;
    fail:
      failed++;
      active--;
      epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
      close(x->fd);
      x->fd = -1;
      x->state = S_DONE;
    }
    /* Handshake timeout: a bounded loop whatever the server does. */
    uint32_t now_ms = (uint32_t)((now_s() - t0) * 1000);
    static uint32_t last_scan_ms = 0;
    if (now_ms - last_scan_ms >= 200) {
      last_scan_ms = now_ms;
      for (int i = 0; i < next; i++) {
        struct conn *x = &c[i];
        if ((x->state == S_CONNECTING || x->state == S_HANDSHAKING) && now_ms - x->started_ms > (uint32_t)timeout_ms) {
          timed_out++;
          active--;
          epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
          close(x->fd);
          x->fd = -1;
          x->state = S_DONE;
        }
      }
    }
  }

  /* Hold: keep watching for drops, then read RSS with every session held and idle. */
  double hold_end = now_s() + hold_ms / 1000.0;
  while (now_s() < hold_end) {
    int n = epoll_wait(ep, evs, 1024, 50);
    for (int k = 0; k < n; k++) {
      struct conn *x = &c[evs[k].data.u32];
      if (x->state != S_CONNECTED) continue;
      lost++;
      connected--;
      epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
      close(x->fd);
      x->fd = -1;
      x->state = S_DONE;
    }
  }
  rss_held = rss_bytes();
  int held = connected;

  /* Clean end: DISCONNECT and let the server close first (bounded to 5 s). */
  static const uint8_t disconnect[2] = {0xe0, 0x00};
  int closing = 0;
  for (int i = 0; i < count; i++) {
    if (c[i].state != S_CONNECTED) continue;
    if (write(c[i].fd, disconnect, 2) == 2) { c[i].state = S_CLOSING; closing++; }
    else { close(c[i].fd); c[i].fd = -1; c[i].state = S_DONE; }
  }
  double close_end = now_s() + 5.0;
  while (closing > 0 && now_s() < close_end) {
    int n = epoll_wait(ep, evs, 1024, 50);
    for (int k = 0; k < n; k++) {
      struct conn *x = &c[evs[k].data.u32];
      if (x->state != S_CLOSING) continue;
      char buf[64];
      ssize_t r = read(x->fd, buf, sizeof buf);
      if (r > 0 || (r < 0 && errno == EAGAIN)) continue;
      close(x->fd);
      x->fd = -1;
      x->state = S_DONE;
      closing--;
    }
  }
  for (int i = 0; i < count; i++) if (c[i].fd >= 0) close(c[i].fd);

  double elapsed = t_last - t0;
  double cpu = cpu_done - cpu0, sys = sys_done - sys0;
  printf("{\"tool\":\"mqtt_ref\",\"count\":%d,\"inflight\":%d,\"sourceAddresses\":%d,"
         "\"succeeded\":%d,\"failed\":%d,\"timedOut\":%d,\"lostWhileHeld\":%d,\"held\":%d,"
         "\"errors\":{\"refused\":%d,\"addrNotAvail\":%d,\"files\":%d,\"rejected\":%d,\"other\":%d},"
         "\"connectSeconds\":%.6f,\"handshakesPerS\":%.1f,\"cpuSeconds\":%.6f,\"cpuUsPerConnection\":%.2f,"
         "\"sysUsPerConnection\":%.2f,"
         "\"rssBeforeBytes\":%ld,\"rssHeldBytes\":%ld,\"bytesPerHeldConnection\":%.1f,\"closedByServerFirst\":%d}\n",
         count, inflight, nsrc, connected + lost, failed, timed_out, lost, held, err_refused, err_addr, err_files,
         err_rejected, err_other, elapsed, elapsed > 0 ? (connected + lost) / elapsed : 0.0, cpu,
         (connected + lost) > 0 ? cpu * 1e6 / (connected + lost) : 0.0,
         (connected + lost) > 0 ? sys * 1e6 / (connected + lost) : 0.0, rss_before, rss_held,
         held > 0 ? (double)(rss_held - rss_before) / held : 0.0, held - closing);
  return 0;
}
