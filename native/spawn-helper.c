/*
 * spawn-helper: starts the daemon's proxies so that starting one costs the same whatever the size
 * of the daemon's heap.
 *
 * Node's child_process.spawn fork()s the whole daemon on its event loop; fork copies the page
 * tables, so it costs time in proportion to the daemon's RSS and blocks the loop meanwhile (issue
 * "Footprint and spawn path", bench/README.md). This helper is started once, at boot, and then
 * posix_spawn()s each proxy (clone(CLONE_VM|CLONE_VFORK): no page tables copied) in a session of
 * its own, reads its stdout and stderr, and reports every exit with its wait status, as the Erlang
 * VM's erl_child_setup and the JDK's jspawnhelper do.
 *
 * It also makes the TCP connects of health checks (a bare connect to a numeric address): in Node each
 * costs ~0.25 ms of the daemon's thread (the socket's stream set-up and its garbage), 200 checks
 * every 5 s half of an idle daemon's CPU; here a few microseconds (bench/README.md, "Idle CPU").
 *
 * Protocol, over the helper's stdin (requests) and stdout (replies); integers are 32-bit unless
 * said, in the machine's byte order (both ends run on the same machine):
 *   requests: u32 length, u8 type, then
 *             'S' spawn: u32 id, u32 argc, u32 envc, then cwd ("" for the helper's own), argv and
 *                 env as NUL-terminated strings;
 *             'C' connect: u32 id, u32 timeout (ms), u16 port, the address (IPv4 or IPv6, numeric)
 *                 as a NUL-terminated string;
 *             'P' ping: nothing (the daemon asks whether a helper that stopped answering is back).
 *   replies:  u32 length, u8 type, then
 *             'R' ready (sent once at start),
 *             'P' the answer to a ping,
 *             'S' u32 id, i32 pid (> 0) or -errno when nothing was started,
 *             'C' u32 id, i32 0 (connected, then closed) or errno (ETIMEDOUT: not within the
 *                 timeout), u32 the time it took (us),
 *             'O' i32 pid, u8 stream (1 stdout, 2 stderr), the bytes read,
 *             'E' i32 pid, u8 stream: that stream reached its end,
 *             'D' i32 pid, u8 stream, u32 lines: output read and dropped here (over the budget below),
 *             'X' i32 pid, i32 wait status.
 *
 * Output budget: a proxy that writes without pause (`yes`) would otherwise hand the daemon all it
 * can read and hold its event loop (one core, measured): at most MAX_LINES lines and MAX_BYTES
 * bytes a second per stream are read; once they are, the stream rests until the next second (its
 * writer waits on a full pipe). What is read and not passed on (the chunk that went over, output a
 * daemon that is not reading has no room for) is counted by its newlines and dropped, and the count
 * sent in a 'D' frame once its second is over (or at the stream's end). MAX_LINES is twice the top
 * of log.output_rate's range, so the budget never logs less than the config allows.
 *
 * The proxies must outlive the daemon (the daemon's next run adopts them), so nothing here kills
 * them. When the daemon goes away (end of stdin, or a failed write) the helper stays, orphaned, for
 * as long as any of its children runs: it keeps reading their output (and drops it) and reaping
 * them, then exits. So a proxy that writes to its output after the daemon died does not get EPIPE,
 * nor SIGPIPE: a Go proxy (v2ray) dies of SIGPIPE on a broken stdout even when SIGPIPE is ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_LINES 20000
#define MAX_BYTES (4 << 20)

struct budget {
  time_t second;     /* the second these counts are for (CLOCK_MONOTONIC) */
  uint32_t lines, dropped;
  size_t bytes;
  int cut;           /* dropping since a line was cut: that line is counted once */
};

struct child {
  pid_t pid;
  int out[3]; /* read ends of stdout (1) and stderr (2), -1 once closed */
  int exited;
  struct budget budget[3];
};

static struct child *children;
static size_t nchildren, capchildren;

static void flush(void);

static void die(void) {
  fcntl(1, F_SETFL, 0); /* what is owed is written out, however long the daemon takes to read it */
  flush();
  _exit(0);
}

/* The daemon has gone: no more requests, replies dropped; the children are drained until they end. */
static int orphaned;

/* Replies not yet written. They are gathered and written together once the loop's turn is done: one
   or two writes per turn rather than two or three per reply, so the daemon wakes once for a process's
   output ends and its exit, and once for a whole storm's worth of them. stdout is non-blocking: a
   daemon that stops reading (stopped by a signal, its event loop held) must not stop the helper,
   which would stop draining the proxies' pipes and so stall every proxy that writes to its output.
   What waits is kept here; past MAX_BACKLOG, output is dropped and counted ('D'), never a spawn's
   result, an exit or a connect's result. */
#define MAX_BACKLOG (1 << 20)
static char *out;
static size_t nout, sent, capout;

static void flush(void) {
  while (sent < nout && !orphaned) {
    ssize_t n = write(1, out + sent, nout - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break; /* the daemon is not reading: the rest waits for POLLOUT */
    if (n <= 0) orphaned = 1;              /* the daemon is gone */
    else sent += (size_t)n;
  }
  if (orphaned || sent == nout) nout = sent = 0;
}

static int backlogged(void) {
  return nout - sent > MAX_BACKLOG;
}

static void gather(const void *data, size_t len) {
  if (nout + len > capout) {
    memmove(out, out + sent, nout - sent); /* what was written makes room first */
    nout -= sent;
    sent = 0;
    if (nout + len > capout) {
      capout = (nout + len) * 2 > (1 << 17) ? (nout + len) * 2 : (1 << 17);
      out = realloc(out, capout);
      if (!out) _exit(1);
    }
  }
  memcpy(out + nout, data, len);
  nout += len;
}

static void reply(char type, const void *a, size_t alen, const void *b, size_t blen) {
  if (orphaned) return;
  char head[5];
  uint32_t len = (uint32_t)(1 + alen + blen);
  memcpy(head, &len, 4);
  head[4] = type;
  gather(head, 5);
  if (alen) gather(a, alen);
  if (blen) gather(b, blen);
}

static void reply_ints(char type, int32_t x, int32_t y) {
  int32_t v[2] = {x, y};
  reply(type, v, sizeof v, NULL, 0);
}

static void reply_stream(char type, pid_t pid, int stream, const void *data, size_t len) {
  char head[5];
  int32_t p = pid;
  memcpy(head, &p, 4);
  head[4] = (char)stream;
  reply(type, head, 5, data, len);
}

static time_t now_second(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

static uint32_t newlines(const char *data, size_t len) {
  uint32_t count = 0;
  for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) count++;
  return count;
}

/* Says how many lines were dropped, once; `at_end`: the stream ended, whatever the second. */
static void report_dropped(struct child *c, int stream, int at_end) {
  struct budget *b = &c->budget[stream];
  if (b->dropped == 0 || (!at_end && b->second == now_second())) return;
  reply_stream('D', c->pid, stream, &b->dropped, sizeof b->dropped);
  b->dropped = 0;
}

/* A stream whose budget for this second is spent rests until the next: its writer waits on a full
   pipe, as on a slow terminal, rather than have every byte it writes read here and dropped (a `yes`
   took 60-76 % of a core of the helper that way). A daemon that is not reading (backlogged) does
   not stall the writer: its output is read and dropped, up to the same budget. */
static int spent(const struct budget *b) {
  return b->lines > MAX_LINES || b->bytes > MAX_BYTES;
}

static int resting(const struct child *c, int stream) {
  return spent(&c->budget[stream]) && c->budget[stream].second == now_second();
}

/* Milliseconds until the next second of CLOCK_MONOTONIC, when resting streams are read again. */
static int until_next_second(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int)((1000000000L - ts.tv_nsec) / 1000000L) + 1;
}

/* Passes a chunk on within the stream's budget for this second, else counts and drops it. */
static void pass_on(struct child *c, int stream, const char *data, size_t len) {
  struct budget *b = &c->budget[stream];
  time_t second = now_second();
  if (b->second != second) {
    report_dropped(c, stream, 1);
    *b = (struct budget){.second = second};
  }
  uint32_t lines = newlines(data, len);
  /* What is read counts, passed on or dropped: a stream dropped for a daemon that is not reading
     (backlogged) rests once it has been read its second's worth too. */
  b->lines += lines;
  b->bytes += len;
  if (!b->cut && !spent(b) && !backlogged()) {
    reply_stream('O', c->pid, stream, data, len);
  } else {
    /* Once over, the rest of the second is dropped: no line is passed on with a hole in it. The
       line in progress is cut: one line, however long; then each newline ends another. */
    b->dropped += lines + (b->cut ? 0 : 1);
    b->cut = 1;
  }
}

static void forget_finished(void) {
  size_t kept = 0;
  for (size_t i = 0; i < nchildren; i++) {
    struct child *c = &children[i];
    if (c->exited && c->out[1] < 0 && c->out[2] < 0) continue;
    children[kept++] = *c;
  }
  nchildren = kept;
}

/* Reads exactly len bytes from stdin; any end or error means the daemon is gone (returns 0). */
static int read_all(void *data, size_t len) {
  char *p = data;
  while (len > 0) {
    ssize_t n = read(0, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      orphaned = 1;
      return 0;
    }
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

/* buf: the request after its type, len bytes, NUL-terminated (buf[len]). */
static void spawn_request(char *buf, uint32_t len) {
  uint32_t head[3];
  if (len < sizeof head) die();
  memcpy(head, buf, sizeof head);
  uint32_t id = head[0], argc = head[1], envc = head[2];

  /* cwd, argv..., env..., each NUL-terminated */
  char **strings = calloc((size_t)argc + envc + 3, sizeof(char *));
  if (!strings) die();
  char *p = buf + sizeof head, *end = buf + len;
  for (uint32_t i = 0; i < 1 + argc + envc; i++) {
    if (p >= end) die();
    strings[i] = p;
    p += strlen(p) + 1;
  }
  char *cwd = strings[0];
  char **argv = strings + 1;       /* argv[argc] is set to NULL below */
  char **env = calloc((size_t)envc + 1, sizeof(char *));
  if (!env) die();
  memcpy(env, strings + 1 + argc, envc * sizeof(char *));
  char *program = argv[0];
  argv[argc] = NULL;

  int out[2] = {-1, -1}, err[2] = {-1, -1};
  int error = 0;
  pid_t pid = -1;
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
    error = errno;
  } else {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    if (cwd[0] != '\0') posix_spawn_file_actions_addchdir_np(&actions, cwd);
    posix_spawnattr_init(&attr);
    /* A session and process group of its own (as Node's detached: true); no signal blocked or
       ignored by the helper is passed on. */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    error = posix_spawn(&pid, program, &actions, &attr, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (error) {
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    reply_ints('S', (int32_t)id, -error);
  } else {
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    if (nchildren == capchildren) {
      capchildren = capchildren ? capchildren * 2 : 64;
      children = realloc(children, capchildren * sizeof *children);
      if (!children) die();
    }
    children[nchildren++] = (struct child){.pid = pid, .out = {-1, out[0], err[0]}, .exited = 0};
    reply_ints('S', (int32_t)id, pid);
  }
  free(env);
  free(strings);
}

/* Connects in progress, each with its deadline. */
struct probe {
  int fd;
  uint32_t id;
  int64_t began, deadline; /* us, CLOCK_MONOTONIC */
};

static struct probe *probes;
static size_t nprobes, capprobes;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void reply_connect(uint32_t id, int32_t error, int64_t began) {
  uint32_t v[3] = {id, (uint32_t)error, (uint32_t)(now_us() - began)};
  reply('C', v, sizeof v, NULL, 0);
}

/* Ends a probe: replies, closes its socket (the server sees the connection end at once). */
static void finish_probe(struct probe *p, int error) {
  reply_connect(p->id, error, p->began);
  close(p->fd);
  p->fd = -1;
}

static void connect_request(const char *buf, uint32_t len) {
  uint32_t id, timeout;
  uint16_t port;
  if (len < 11) die();
  memcpy(&id, buf, 4);
  memcpy(&timeout, buf + 4, 4);
  memcpy(&port, buf + 8, 2);
  const char *host = buf + 10; /* NUL-terminated by request() */
  struct sockaddr_storage addr = {0};
  socklen_t addrlen;
  struct sockaddr_in *in = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
  if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    addrlen = sizeof *in;
  } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    addrlen = sizeof *in6;
  } else {
    return reply_connect(id, EINVAL, now_us());
  }
  int64_t began = now_us();
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply_connect(id, errno, began);
  int error = connect(fd, (struct sockaddr *)&addr, addrlen) == 0 ? 0 : errno;
  if (error != EINPROGRESS) {
    /* At once: connected (loopback may be that quick), or refused before any packet left. */
    struct probe done = {.fd = fd, .id = id, .began = began};
    return finish_probe(&done, error);
  }
  if (nprobes == capprobes) {
    capprobes = capprobes ? capprobes * 2 : 64;
    probes = realloc(probes, capprobes * sizeof *probes);
    if (!probes) die();
  }
  probes[nprobes++] = (struct probe){.fd = fd, .id = id, .began = began, .deadline = began + (int64_t)timeout * 1000};
}

/* A connect that ended (writable, or an error) or passed its deadline is replied to. */
static void settle_probe(struct probe *p, short revents) {
  if (revents) {
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0) error = errno;
    finish_probe(p, error);
  } else if (now_us() >= p->deadline) {
    finish_probe(p, ETIMEDOUT);
  }
}

static void forget_settled(void) {
  size_t kept = 0;
  for (size_t i = 0; i < nprobes; i++)
    if (probes[i].fd >= 0) probes[kept++] = probes[i];
  nprobes = kept;
}

/* One request from the daemon; its end (or an error) means the daemon is gone. Returns its type. */
static char request(void) {
  uint32_t len;
  if (!read_all(&len, 4)) return 0;
  if (len < 1) die();
  char *buf = malloc(len + 1);
  if (!buf) die();
  char type = 0;
  if (read_all(buf, len)) {
    buf[len] = '\0';
    type = buf[0];
    if (type == 'S') spawn_request(buf + 1, len - 1);
    else if (type == 'C') connect_request(buf + 1, len - 1);
    else if (type == 'P') reply('P', NULL, 0, NULL, 0);
    else die();
  }
  free(buf);
  return type;
}

/* The requests waiting on stdin: a check round's connects (hundreds in one write) are taken in one
   go rather than one per turn of the loop (each turn polls every pipe). A spawn ends the run, so
   exits are reaped between two spawns (a spawn takes about a millisecond). */
static void requests(void) {
  struct pollfd in = {.fd = 0, .events = POLLIN};
  for (int taken = 0; taken < 256 && !orphaned; taken++) {
    if (request() != 'C') return;
    if (poll(&in, 1, 0) <= 0 || !(in.revents & POLLIN)) return;
  }
}

/* Reads until the pipe is empty or ended: an exited child's pipes are closed before its parent hears
   of the exit, so its last output and their ends are reported before its exit (a short read that
   stopped there left the end for the next round, after the exit, and the daemon dropped it with the
   unterminated last line it was holding). At most 16 reads, so a writer that never stops (a
   grandchild holding the pipe) cannot hold up the others. */
static void drain(struct child *c, int stream, int at_exit) {
  char buf[65536];
  /* At the child's exit, read whatever its budget: what it said last goes before its exit. */
  for (int reads = 0; reads < 16 && (at_exit || !resting(c, stream)); reads++) {
    ssize_t n = read(c->out[stream], buf, sizeof buf);
    if (n > 0) {
      pass_on(c, stream, buf, (size_t)n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close(c->out[stream]);
    c->out[stream] = -1;
    report_dropped(c, stream, 1);
    reply_stream('E', c->pid, stream, NULL, 0);
    return;
  }
}

static void reap(int sigfd) {
  struct signalfd_siginfo info;
  while (read(sigfd, &info, sizeof info) > 0) {
  }
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < nchildren; i++) {
      if (children[i].pid != pid) continue;
      children[i].exited = 1;
      /* A stream resting on its budget was not read this turn: its last lines, their drop count and
         its end go before the exit, which the daemon takes for the end of everything of it. */
      for (int s = 1; s <= 2; s++)
        if (children[i].out[s] >= 0) drain(&children[i], s, 1);
    }
    reply_ints('X', pid, status);
  }
}

int main(void) {
  /* The helper knows the daemon has gone (it runs in a session of its own, so a signal to the
     daemon's process group, Ctrl-C included, does not reach it) when a write to it fails with
     EPIPE or stdin ends; it then stays until its last child has ended. */
  signal(SIGPIPE, SIG_IGN);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd < 0) return 1;

  reply('R', NULL, 0, NULL, 0);
  struct pollfd *fds = NULL;
  struct { size_t child; int stream; } *owners = NULL;
  size_t capfds = 0;
  for (;;) {
    if (orphaned) { /* no one to tell: connects in progress are dropped */
      for (size_t i = 0; i < nprobes; i++) close(probes[i].fd);
      nprobes = 0;
    }
    size_t need = 3 + 2 * nchildren + nprobes;
    if (need > capfds) {
      capfds = need * 2;
      fds = realloc(fds, capfds * sizeof *fds);
      owners = realloc(owners, capfds * sizeof *owners);
      if (!fds || !owners) return 1;
    }
    if (orphaned && nchildren == 0) return 0;
    size_t n = 0;
    /* Orphaned, stdin is no longer polled (its end would wake every poll): a negative fd is skipped. */
    fds[n++] = (struct pollfd){.fd = orphaned ? -1 : 0, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    /* Replies the daemon has not taken yet: written as it reads them (set below, once this turn's
       drop reports are gathered). */
    fds[n++] = (struct pollfd){.fd = -1, .events = POLLOUT};
    /* Drops not yet reported: wake within a second to report them, should the stream fall silent. */
    int timeout = -1;
    for (size_t i = 0; i < nchildren; i++) {
      for (int s = 1; s <= 2; s++) {
        report_dropped(&children[i], s, 0);
        if (children[i].budget[s].dropped && (timeout < 0 || timeout > 1000)) timeout = 1000;
        if (children[i].out[s] < 0) continue;
        if (resting(&children[i], s)) {
          int wake = until_next_second();
          if (timeout < 0 || wake < timeout) timeout = wake;
          continue;
        }
        owners[n].child = i;
        owners[n].stream = s;
        fds[n++] = (struct pollfd){.fd = children[i].out[s], .events = POLLIN};
      }
    }
    /* Connects in progress (stream 0): writable once they end; wake by the nearest deadline. */
    int64_t now = now_us();
    for (size_t i = 0; i < nprobes; i++) {
      int64_t left = probes[i].deadline > now ? (probes[i].deadline - now + 999) / 1000 : 0;
      if (timeout < 0 || left < timeout) timeout = (int)left;
      owners[n].child = i;
      owners[n].stream = 0;
      fds[n++] = (struct pollfd){.fd = probes[i].fd, .events = POLLOUT};
    }
    flush();
    fds[2].fd = nout > sent ? 1 : -1;
    if (poll(fds, n, timeout) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    /* Output first: what a process wrote before it exited is reported before its exit, as far as
       it was already in the pipe. */
    for (size_t k = 3; k < n; k++) {
      if (owners[k].stream == 0) settle_probe(&probes[owners[k].child], fds[k].revents);
      else if (fds[k].revents) drain(&children[owners[k].child], owners[k].stream, 0);
    }
    if (fds[1].revents) reap(sigfd);
    flush(); /* the outputs and exits before this turn's requests, which may be a round of connects */
    if (fds[0].revents & POLLIN) requests();
    else if (fds[0].revents) orphaned = 1;
    forget_finished();
    forget_settled();
  }
}
