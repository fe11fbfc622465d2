/*
 * Why Node's bind-before-connect gets slow past ~7,000 sockets on one source address: libuv sets
 * SO_REUSEADDR before every bind (uv__tcp_bind), and for such sockets Linux's port search
 * (inet_csk_find_open_port) first scans only half of the ephemeral range, every other port, and
 * treats each bound port as taken — so once ~7,000 are bound on the address every bind walks the
 * whole half before moving on. Binds N sockets to one loopback address with port 0, with or
 * without SO_REUSEADDR, and prints µs per bind for each 1,000. Nothing is connected or sent.
 *
 *   cc -O2 -o /tmp/bind-reuseaddr bench/experiments/bind-reuseaddr.c
 *   /tmp/bind-reuseaddr 127.0.0.201 1 10000   # with SO_REUSEADDR, as libuv binds
 *   /tmp/bind-reuseaddr 127.0.0.202 0 10000   # without
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 4 || strncmp(argv[1], "127.", 4) != 0) {
    fprintf(stderr, "usage: %s 127.x.y.z REUSEADDR(0|1) COUNT(1000-19000)\n", argv[0]);
    return 2;
  }
  int reuse = atoi(argv[2]), n = atoi(argv[3]);
  if (n < 1000 || n > 19000) return fprintf(stderr, "COUNT: 1000 to 19000\n"), 2;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  int *fds = calloc((size_t)n, sizeof *fds);
  struct sockaddr_in a = {.sin_family = AF_INET};
  if (fds == NULL || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) return 2;
  double t0 = now_us();
  int bound = 0;
  printf("%s, SO_REUSEADDR %s: µs per bind, per 1,000 bound:", argv[1], reuse ? "on" : "off");
  for (; bound < n; bound++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) break;
    if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      perror(" bind");
      close(fd);
      break;
    }
    fds[bound] = fd;
    if ((bound + 1) % 1000 == 0) {
      double t = now_us();
      printf(" %d", (int)((t - t0) / 1000 + 0.5));
      t0 = t;
    }
  }
  printf("\n");
  for (int i = 0; i < bound; i++) close(fds[i]);
  free(fds);
  return 0;
}
