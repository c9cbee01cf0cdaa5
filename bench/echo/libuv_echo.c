/* Raw libuv peer for the echo benchmark: one loop, one thread. Reads into a shared buffer, tries
 * the write at once (uv_try_write) and queues a copy of what did not fit (uv_write), which is what
 * uvloop's transports do.
 * Usage: libuv_echo [--port P]   (listens on 127.0.0.1 only; port 0 picks one) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUF 65536
static char rbuf[BUF];
static uv_loop_t* loop;

typedef struct {
  uv_write_t req;
  char data[];
} write_req;

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(rbuf, BUF);
}

static void close_cb(uv_handle_t* h) { free(h); }

static void write_cb(uv_write_t* req, int status) {
  (void)status;
  free(req);
}

static void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    uv_close((uv_handle_t*)s, close_cb);
    return;
  }
  if (nread == 0) return;
  uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
  int w = uv_try_write(s, &b, 1);
  if (w == UV_EAGAIN) w = 0;
  if (w < 0) {
    uv_close((uv_handle_t*)s, close_cb);
    return;
  }
  if (w < nread) {
    size_t rest = (size_t)nread - (size_t)w;
    write_req* wr = malloc(sizeof *wr + rest);
    memcpy(wr->data, buf->base + w, rest);
    uv_buf_t rb = uv_buf_init(wr->data, (unsigned)rest);
    uv_write(&wr->req, s, &rb, 1, write_cb);
  }
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  uv_tcp_init(loop, client);
  if (uv_accept(server, (uv_stream_t*)client) == 0) {
    uv_tcp_nodelay(client, 1);
    uv_read_start((uv_stream_t*)client, alloc_cb, read_cb);
  } else {
    uv_close((uv_handle_t*)client, close_cb);
  }
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else { fprintf(stderr, "usage: %s [--port P]\n", argv[0]); return 1; }
  }
  loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  int r = uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
  if (!r) r = uv_listen((uv_stream_t*)&server, 4096, on_connection);
  if (r) { fprintf(stderr, "listen: %s\n", uv_strerror(r)); return 1; }
  int len = sizeof addr;
  uv_tcp_getsockname(&server, (struct sockaddr*)&addr, &len);
  printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);
  return uv_run(loop, UV_RUN_DEFAULT);
}
