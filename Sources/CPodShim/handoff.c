// Port-forward's descriptor handoff and splice relay (docs/portforward-handoff.md): the
// abstract Unix sockets podd and podctl meet on, and splice(2), which Swift's Glibc module
// does not expose.
#define _GNU_SOURCE
#include "CPodShim.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/// The abstract address for `name` (a leading NUL, no terminating one), or -1 (EINVAL) when
/// the name is empty or does not fit.
static int abstract_address(const char *name, struct sockaddr_un *a, socklen_t *len) {
    size_t n = strlen(name);
    if (n == 0 || n + 1 > sizeof a->sun_path) { errno = EINVAL; return -1; }
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    return 0;
}

int pod_listen_abstract(const char *name) {
    struct sockaddr_un a;
    socklen_t len;
    if (abstract_address(name, &a, &len) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, 1) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int pod_connect_abstract(const char *name) {
    struct sockaddr_un a;
    socklen_t len;
    if (abstract_address(name, &a, &len) < 0) return -1;
    // Non-blocking: a listener whose backlog is full fails at once (EAGAIN) rather than
    // holding podd's caller.
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

ssize_t pod_splice(int from, int to, size_t len) {
    ssize_t n;
    do { n = splice(from, NULL, to, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK); } while (n < 0 && errno == EINTR);
    return n;
}

int pod_pipe_nonblocking(int fds[2], int size) {
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
    // A larger pipe moves more per splice; the default (64 KiB) stays when the size is
    // refused (above /proc/sys/fs/pipe-max-size for an unprivileged caller).
    if (size > 0) (void)fcntl(fds[0], F_SETPIPE_SZ, size);
    int got = fcntl(fds[0], F_GETPIPE_SZ);
    return got > 0 ? got : 65536;
}
