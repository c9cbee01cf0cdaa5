/* The floor of the echo benchmark: a hand-written single-threaded epoll echo server.
 *
 * Each fd is registered once (EPOLLIN|EPOLLOUT, edge-triggered). One read and one write per
 * request: a read shorter than the buffer means the socket is drained, so no second read to see
 * EAGAIN. A write that cannot complete keeps the rest and stops reading that connection until
 * EPOLLOUT flushes it. The listening socket is non-blocking and accepts until EAGAIN.
 * Usage: epoll_echo [--port P]   (listens on 127.0.0.1 only; port 0 picks one) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

struct conn {
  int fd;
  size_t pending, off; /* unsent tail of the last echo: buf[off, off+pending) */
  char buf[BUF];
};

static char rbuf[BUF];

static void close_conn(struct conn* c) {
  close(c->fd); /* also removes it from the epoll set */
  free(c);
}

/* Returns 0 when all pending bytes are written, 1 if the socket is full, -1 on error. */
static int flush(struct conn* c) {
  while (c->pending) {
    ssize_t n = write(c->fd, c->buf + c->off, c->pending);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN ? 1 : -1;
    c->off += (size_t)n;
    c->pending -= (size_t)n;
  }
  return 0;
}

/* Echo what is readable; returns -1 when the connection is finished. */
static int on_readable(struct conn* c) {
  for (;;) {
    if (c->pending) return 0; /* wait for EPOLLOUT before reading more */
    ssize_t n = read(c->fd, rbuf, BUF);
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    ssize_t w = write(c->fd, rbuf, (size_t)n);
    if (w < 0) {
      if (errno != EAGAIN) return -1;
      w = 0;
    }
    if (w < n) { /* keep the rest for EPOLLOUT */
      memcpy(c->buf, rbuf + w, (size_t)(n - w));
      c->off = 0;
      c->pending = (size_t)(n - w);
      return 0;
    }
    if (n < BUF) return 0; /* short read: drained */
  }
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else { fprintf(stderr, "usage: %s [--port P]\n", argv[0]); return 1; }
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&a, sizeof a) || listen(lfd, 4096)) { perror("bind/listen"); return 1; }
  socklen_t al = sizeof a;
  getsockname(lfd, (struct sockaddr*)&a, &al);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);

  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(ep, evs, 512, -1);
    if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 1; }
    for (int i = 0; i < n; ++i) {
      struct conn* c = evs[i].data.ptr;
      if (!c) { /* listener */
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break; /* EAGAIN (or a transient error: the next edge retries) */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          c = malloc(sizeof *c);
          c->fd = fd;
          c->pending = c->off = 0;
          struct epoll_event cev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      int r = 0;
      if (evs[i].events & EPOLLOUT && c->pending) {
        r = flush(c);
        if (r == 0) r = on_readable(c); /* readiness may have been missed while blocked */
      } else if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        r = on_readable(c);
      }
      if (r < 0) close_conn(c);
    }
  }
}
