/* The io_uring floor of the echo benchmark: a hand-written single-threaded liburing echo server.
 *
 * Each connection has one operation in the kernel at a time on its own 64 KiB buffer: a recv,
 * then a send of what it read (again for the rest after a short send), then the next recv. The
 * listener keeps one accept in the kernel. Every turn is one io_uring_submit_and_wait (submit
 * what the last turn queued and wait for at least one completion in the same syscall), then all
 * the completions there are. Ring flags: the ones coloop's io_uring backend uses (COOP_TASKRUN,
 * TASKRUN_FLAG, SUBMIT_ALL, a 4096-entry CQ ring); --defer-taskrun adds SINGLE_ISSUER |
 * DEFER_TASKRUN, which a single-threaded server may use and coloop's backend does not.
 * Usage: uring_echo [--port P] [--defer-taskrun]   (listens on 127.0.0.1 only; port 0 picks one) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

enum { OP_RECV = 0, OP_SEND = 1 }; /* low bit of user_data; 0 as a whole is the accept */

struct conn {
  int fd;
  size_t len, off; /* the echo being sent: buf[off, len) */
  char buf[BUF];
};

static struct io_uring ring;
static int lfd;

static struct io_uring_sqe* sqe(void) {
  struct io_uring_sqe* s = io_uring_get_sqe(&ring);
  while (!s) { /* SQ ring full: hand it over */
    io_uring_submit(&ring);
    s = io_uring_get_sqe(&ring);
  }
  return s;
}

static void queue_accept(void) {
  struct io_uring_sqe* s = sqe();
  io_uring_prep_accept(s, lfd, NULL, NULL, SOCK_CLOEXEC);
  s->user_data = 0;
}

static void queue_recv(struct conn* c) {
  struct io_uring_sqe* s = sqe();
  io_uring_prep_recv(s, c->fd, c->buf, BUF, 0);
  s->user_data = (uint64_t)(uintptr_t)c | OP_RECV;
}

static void queue_send(struct conn* c) {
  struct io_uring_sqe* s = sqe();
  io_uring_prep_send(s, c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
  s->user_data = (uint64_t)(uintptr_t)c | OP_SEND;
}

static void close_conn(struct conn* c) {
  close(c->fd);
  free(c);
}

static void on_cqe(uint64_t ud, int res) {
  if (ud == 0) { /* accept */
    if (res >= 0) {
      int one = 1;
      setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      struct conn* c = malloc(sizeof *c);
      c->fd = res;
      c->len = c->off = 0;
      queue_recv(c);
    }
    queue_accept();
    return;
  }
  struct conn* c = (struct conn*)(uintptr_t)(ud & ~(uint64_t)1);
  if ((ud & 1) == OP_RECV) {
    if (res <= 0) { /* end of stream or error */
      close_conn(c);
      return;
    }
    c->len = (size_t)res;
    c->off = 0;
    queue_send(c);
    return;
  }
  if (res < 0) {
    close_conn(c);
    return;
  }
  c->off += (size_t)res;
  if (c->off < c->len) {
    queue_send(c); /* short send: the rest */
  } else {
    queue_recv(c);
  }
}

int main(int argc, char** argv) {
  int port = 0, defer = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--defer-taskrun")) defer = 1;
    else { fprintf(stderr, "usage: %s [--port P] [--defer-taskrun]\n", argv[0]); return 1; }
  }
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
            IORING_SETUP_TASKRUN_FLAG;
  if (defer) p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  p.cq_entries = 4096;
  int r = io_uring_queue_init_params(256, &ring, &p);
  if (r < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r)); return 1; }

  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr*)&a, sizeof a) || listen(lfd, 4096)) { perror("bind/listen"); return 1; }
  socklen_t al = sizeof a;
  getsockname(lfd, (struct sockaddr*)&a, &al);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);

  queue_accept();
  for (;;) {
    r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-r));
      return 1;
    }
    struct io_uring_cqe* cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      on_cqe(cqe->user_data, cqe->res);
      ++n;
    }
    io_uring_cq_advance(&ring, n);
  }
}
