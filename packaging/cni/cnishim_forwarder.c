/*
 * cnishim as a container runtime's CNI plugin: /usr/lib/cni/cnishim.
 *
 * The runtime execs this for every ADD, DEL, CHECK, STATUS and GC of a pod
 * sandbox, so it must start fast: a Deno process costs ~50 ms here, this
 * static binary about a millisecond. It forwards a call to `cnishim serve`
 * (thick mode) only when CNI_COMMAND is set and not VERSION, the socket
 * compiled in exists and is a socket, and the config on stdin names that
 * socket ("socket": "<path>"). The request is the one `POST /v1/cni` of
 * src/serve/protocol.ts: the CNI_* variables that are set and stdin,
 * url-encoded. An answer with HTTP 200 or 500 and the server's exit-code
 * header is printed as is, with that exit status. Anything else (thin
 * mode, another socket, no server, refused, a server that is stopping or
 * did not take the call, no complete answer within the deadline, stdin
 * over the cap) execs the cnishim program compiled in with the same argv,
 * environment and stdin, which runs the call in-process on the same cache
 * and locks. When the call was this socket's, CNISHIM_FORWARDER_SOCKET and
 * CNISHIM_FORWARDER_REFUSED tell it so (and why): it logs its one warning
 * line and does not try the server a second time. No shell anywhere.
 *
 * Built by scripts/_forwarder.ts with a generated header (-include)
 * defining CNISHIM_PROGRAM (argv words, NULL-terminated), CNISHIM_SOCKET
 * and CNISHIM_REPLY_TIMEOUT_MS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#if !defined(CNISHIM_SOCKET) || !defined(CNISHIM_REPLY_TIMEOUT_MS)
#error "build with scripts/_forwarder.ts (it generates the config header)"
#endif

/* The largest stdin forwarded: a config file's limit (1 MiB, iSulad's). */
#define MAX_STDIN (1024 * 1024)
/* The largest answer read: a result is a few KiB. */
#define MAX_REPLY (16 * 1024 * 1024)

extern char **environ;

static const char *const program[] = CNISHIM_PROGRAM;
static const char *const variables[] = {
    "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
    "CNI_IFNAME",  "CNI_ARGS",        "CNI_PATH",
};

struct buf {
  char *data;
  size_t len, cap;
};

static int grow(struct buf *b, size_t more) {
  if (b->len + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  char *data = realloc(b->data, cap);
  if (!data) return -1;
  b->data = data;
  b->cap = cap;
  return 0;
}

static int append(struct buf *b, const void *p, size_t n) {
  if (grow(b, n)) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static int append_str(struct buf *b, const char *s) {
  return append(b, s, strlen(s));
}

/* As encodeURIComponent, and so as URLSearchParams decodes it. */
static int append_encoded(struct buf *b, const char *p, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  if (grow(b, n * 3)) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      b->data[b->len++] = (char)c;
    } else {
      b->data[b->len++] = '%';
      b->data[b->len++] = hex[c >> 4];
      b->data[b->len++] = hex[c & 15];
    }
  }
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/*
 * Execs the program with this argv and environment, stdin being `in`
 * (len bytes read already, then the rest of fd 0 when `rest`), or fd 0
 * untouched when `in` is NULL. `refused`: why this socket's call is not
 * forwarded, passed on. Returns only on failure, having said why.
 */
static int fallback(char **argv, const char *in, size_t len, int rest,
                    const char *refused) {
  if (in) {
    int fd = memfd_create("cnishim-stdin", 0);
    if (fd < 0 || write_all(fd, in, len)) goto stdin_failed;
    if (rest) {
      char chunk[65536];
      for (;;) {
        ssize_t r = read(0, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) goto stdin_failed;
        if (r == 0) break;
        if (write_all(fd, chunk, (size_t)r)) goto stdin_failed;
      }
    }
    if (lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) != 0) goto stdin_failed;
    close(fd);
  }
  size_t words = sizeof program / sizeof program[0] - 1;
  int argc = 0;
  while (argv[argc]) argc++;
  char **args = calloc(words + (size_t)argc + 1, sizeof *args);
  size_t envc = 0;
  while (environ[envc]) envc++;
  char **env = calloc(envc + 3, sizeof *env);
  if (!args || !env) goto failed;
  for (size_t i = 0; i < words; i++) args[i] = (char *)program[i];
  for (int i = 1; i < argc; i++) args[words + (size_t)i - 1] = argv[i];
  size_t e = 0;
  for (size_t i = 0; i < envc; i++) {
    if (strncmp(environ[i], "CNISHIM_FORWARDER_", 18) != 0)
      env[e++] = environ[i];
  }
  if (refused) {
    char *s = NULL, *r = NULL;
    if (asprintf(&s, "CNISHIM_FORWARDER_SOCKET=%s", CNISHIM_SOCKET) < 0 ||
        asprintf(&r, "CNISHIM_FORWARDER_REFUSED=%s", refused) < 0)
      goto failed;
    env[e++] = s;
    env[e++] = r;
  }
  env[e] = NULL;
  execve(program[0], args, env);
failed:
  fprintf(stderr, "cnishim forwarder: cannot exec %s: %s\n", program[0],
          strerror(errno));
  printf("{\"cniVersion\":\"1.0.0\",\"code\":5,\"msg\":\"cannot exec %s: %s\"}\n",
         program[0], strerror(errno));
  return 1;
stdin_failed:
  fprintf(stderr, "cnishim forwarder: cannot pass stdin on: %s\n",
          strerror(errno));
  printf("{\"cniVersion\":\"1.0.0\",\"code\":5,\"msg\":\"cannot pass stdin "
         "on to %s: %s\"}\n",
         program[0], strerror(errno));
  return 1;
}

/* Reads fd 0 up to MAX_STDIN bytes; *more when there was more. */
static int read_stdin(struct buf *b, int *more) {
  *more = 0;
  for (;;) {
    if (grow(b, 65536)) return -1;
    size_t room = b->cap - b->len;
    if (b->len + room > MAX_STDIN + 1) room = MAX_STDIN + 1 - b->len;
    ssize_t r = read(0, b->data + b->len, room);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    b->len += (size_t)r;
    if (b->len > MAX_STDIN) {
      *more = 1;
      return 0;
    }
  }
}

/* Does the config name the socket: "socket", optional blanks, ':', "<socket>"? */
static int names_socket(const char *conf, size_t len) {
  static const char key[] = "\"socket\"";
  const char *sock = CNISHIM_SOCKET;
  size_t klen = sizeof key - 1, slen = strlen(sock);
  const char *end = conf + len;
  for (const char *p = conf; (p = memmem(p, (size_t)(end - p), key, klen));
       p += klen) {
    const char *q = p + klen;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
      q++;
    if (q >= end || *q++ != ':') continue;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
      q++;
    if ((size_t)(end - q) >= slen + 2 && q[0] == '"' &&
        memcmp(q + 1, sock, slen) == 0 && q[slen + 1] == '"')
      return 1;
  }
  return 0;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_for(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n > 0) return 1;
  }
}

static const char *header(const char *head, size_t len, const char *name) {
  size_t nlen = strlen(name);
  const char *end = head + len;
  for (const char *line = memchr(head, '\n', len); line && line + 1 < end;
       line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
    const char *p = line + 1;
    if ((size_t)(end - p) > nlen && strncasecmp(p, name, nlen) == 0 &&
        p[nlen] == ':') {
      p += nlen + 1;
      while (p < end && (*p == ' ' || *p == '\t')) p++;
      return p;
    }
  }
  return NULL;
}

/* Decodes a chunked body in place; -1 when it is not complete. */
static long dechunk(char *body, size_t len) {
  size_t in = 0, out = 0;
  for (;;) {
    char *eol = memmem(body + in, len - in, "\r\n", 2);
    if (!eol) return -1;
    char *after;
    unsigned long size = strtoul(body + in, &after, 16);
    if (after == body + in) return -1;
    in = (size_t)(eol - body) + 2;
    if (size == 0) return (long)out;
    if (size > len - in || len - in - size < 2) return -1;
    memmove(body + out, body + in, size);
    out += size;
    in += size + 2;
  }
}

/*
 * One exchange with the server. Returns the exit status to end with after
 * printing the answer, or -1 with *why set when the server did not take
 * the call (then the caller runs it).
 */
static int forward(const char *conf, size_t len, char *why, size_t whylen) {
  long long deadline = now_ms() + CNISHIM_REPLY_TIMEOUT_MS;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(CNISHIM_SOCKET) >= sizeof addr.sun_path) {
    snprintf(why, whylen, "socket path too long");
    return -1;
  }
  strcpy(addr.sun_path, CNISHIM_SOCKET);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    snprintf(why, whylen, "socket: %s", strerror(errno));
    return -1;
  }
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int ok = 0;
    if (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline) == 1) {
      int err = 0;
      socklen_t l = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0)
        ok = 1;
      else
        errno = err;
    }
    if (!ok) {
      // A full backlog answers EAGAIN at once: not served now.
      snprintf(why, whylen, "cannot connect: %s", strerror(errno));
      close(fd);
      return -1;
    }
  }
  struct buf body = {0}, req = {0};
  for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++) {
    const char *v = getenv(variables[i]);
    if (!v) continue;
    if (append_str(&body, variables[i]) || append_str(&body, "=") ||
        append_encoded(&body, v, strlen(v)) || append_str(&body, "&"))
      goto oom;
  }
  if (append_str(&body, "stdin=") || append_encoded(&body, conf, len))
    goto oom;
  char head[256];
  int hlen = snprintf(head, sizeof head,
                      "POST /v1/cni HTTP/1.1\r\nhost: cnishim\r\n"
                      "content-type: application/x-www-form-urlencoded\r\n"
                      "content-length: %zu\r\nconnection: close\r\n\r\n",
                      body.len);
  if (append(&req, head, (size_t)hlen) || append(&req, body.data, body.len))
    goto oom;
  for (size_t off = 0; off < req.len;) {
    ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
    if (w >= 0) {
      off += (size_t)w;
      continue;
    }
    if (errno == EINTR) continue;
    int ready = errno == EAGAIN ? wait_for(fd, POLLOUT, deadline) : -1;
    if (ready == 0) {
      snprintf(why, whylen, "no answer within %d ms",
               CNISHIM_REPLY_TIMEOUT_MS);
      goto failed;
    }
    if (ready != 1) {
      snprintf(why, whylen, "lost while sending: %s", strerror(errno));
      goto failed;
    }
  }
  // The whole answer (connection: close): until EOF, or the body's length.
  struct buf res = {0};
  size_t body_at = 0;
  long want = -1;
  for (;;) {
    if (res.len > MAX_REPLY) {
      snprintf(why, whylen, "answer over %d bytes", MAX_REPLY);
      goto failed;
    }
    if (grow(&res, 65536)) goto oom;
    ssize_t r = recv(fd, res.data + res.len, res.cap - res.len, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      int ready = errno == EAGAIN ? wait_for(fd, POLLIN, deadline) : -1;
      if (ready == 1) continue;
      if (ready == 0)
        snprintf(why, whylen, "no answer within %d ms",
                 CNISHIM_REPLY_TIMEOUT_MS);
      else
        snprintf(why, whylen, "lost while reading: %s", strerror(errno));
      goto failed;
    }
    res.len += (size_t)r;
    if (!body_at) {
      char *end = memmem(res.data, res.len, "\r\n\r\n", 4);
      if (end) {
        body_at = (size_t)(end - res.data) + 4;
        const char *cl = header(res.data, body_at, "content-length");
        if (cl) want = strtol(cl, NULL, 10);
      }
    }
    if (r == 0 || (want >= 0 && res.len >= body_at + (size_t)want)) break;
  }
  close(fd);
  fd = -1;
  // Terminated, so that the parsing below never reads past the answer.
  if (grow(&res, 1)) goto oom;
  res.data[res.len] = '\0';
  int status = 0;
  if (!body_at || sscanf(res.data, "HTTP/1.%*1[01] %3d", &status) != 1) {
    snprintf(why, whylen, "not an HTTP answer");
    goto failed;
  }
  const char *exit_header = header(res.data, body_at, "cnishim-exit-code");
  if ((status != 200 && status != 500) || !exit_header) {
    // 503 (stopping), 421 (not its call), or not cnishim serve.
    snprintf(why, whylen, "HTTP %d%s", status,
             exit_header ? "" : " without a cnishim-exit-code header");
    goto failed;
  }
  size_t blen = res.len - body_at;
  if (want >= 0) {
    if (blen < (size_t)want) {
      snprintf(why, whylen, "connection closed inside the answer");
      goto failed;
    }
    blen = (size_t)want;
  } else {
    const char *te = header(res.data, body_at, "transfer-encoding");
    if (te && strncasecmp(te, "chunked", 7) == 0) {
      long n = dechunk(res.data + body_at, blen);
      if (n < 0) {
        snprintf(why, whylen, "connection closed inside the answer");
        goto failed;
      }
      blen = (size_t)n;
    }
  }
  int code = atoi(exit_header);
  signal(SIGPIPE, SIG_IGN);
  if (write_all(1, res.data + body_at, blen)) {
    fprintf(stderr, "cnishim forwarder: cannot write the answer: %s\n",
            strerror(errno));
    return code ? code : 1;
  }
  return code;
oom:
  snprintf(why, whylen, "out of memory");
failed:
  if (fd >= 0) close(fd);
  return -1;
}

int main(int argc, char **argv) {
  (void)argc;
  const char *command = getenv("CNI_COMMAND");
  // No command: the command line, not a plugin call. VERSION: answered by
  // the program itself, which needs no server.
  if (!command || !*command || strcmp(command, "VERSION") == 0)
    return fallback(argv, NULL, 0, 0, NULL);
  struct stat st;
  if (stat(CNISHIM_SOCKET, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    // Thin mode, or the server is not running: the program decides.
    return fallback(argv, NULL, 0, 0, "no socket");
  }
  struct buf conf = {0};
  int more = 0;
  if (read_stdin(&conf, &more)) {
    fprintf(stderr, "cnishim forwarder: cannot read stdin: %s\n",
            strerror(errno));
    return fallback(argv, conf.data ? conf.data : "", conf.len, 1,
                    "stdin unreadable");
  }
  if (more) {
    char why[64];
    snprintf(why, sizeof why, "stdin over %d bytes", MAX_STDIN);
    return fallback(argv, conf.data, conf.len, 1, why);
  }
  if (!names_socket(conf.data ? conf.data : "", conf.len))
    return fallback(argv, conf.data ? conf.data : "", conf.len, 0, NULL);
  char why[256];
  int code = forward(conf.data, conf.len, why, sizeof why);
  if (code >= 0) return code;
  return fallback(argv, conf.data, conf.len, 0, why);
}
