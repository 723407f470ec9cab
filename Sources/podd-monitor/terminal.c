/* terminal.c - see terminal.h. */
#define _GNU_SOURCE
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int pty_open(int rootfd, int *master, int *slave, struct setup_error *e)
{
    /* O_NONBLOCK: a ptmx that is not one (a FIFO a container put there) must not block the
     * monitor in open. */
    int flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, unlock = 0, m, s;
    struct stat st;

    if (rootfd >= 0) {
        struct open_how how = {.flags = (unsigned long long)flags,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        m = (int)syscall(SYS_openat2, rootfd, "dev/ptmx", &how, sizeof how);
    } else {
        m = open("/dev/ptmx", flags);
    }
    if (m < 0)
        return setup_fail(e, errno, "open(/dev/ptmx)", "open the container's /dev/ptmx: %s",
                          strerror(errno));
    /* The multiplexer of a devpts instance is character device 5:2, whichever instance. */
    if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2) {
        close(m);
        return setup_fail(e, ENOTTY, "open(/dev/ptmx)", "the container's /dev/ptmx is not a pty multiplexer");
    }
    if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
        int err = errno;
        close(m);
        return setup_fail(e, err, "unlockpt", "unlock the pty: %s", strerror(err));
    }
    /* TIOCGPTPEER opens the slave from the master itself: no path lookup in a directory a
     * container controls, and always the peer of this very master. */
    s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        int err = errno;
        close(m);
        return setup_fail(e, err, "open(pty)", "open the pty's terminal: %s", strerror(err));
    }
    *master = m;
    *slave = s;
    return 0;
}

int pty_become_controlling(int slave, struct setup_error *e)
{
    if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
        return setup_fail(e, errno, "stdio(tty)", "terminal as stdin/stdout/stderr: %s", strerror(errno));
    if (slave > 2)
        close(slave);
    if (ioctl(0, TIOCSCTTY, 0) < 0)
        return setup_fail(e, errno, "TIOCSCTTY", "make the pty the controlling terminal: %s",
                          strerror(errno));
    return 0;
}

int fd_send(int sock, int fd)
{
    char byte = 0, control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    struct cmsghdr *c;

    memset(control, 0, sizeof control);
    c = CMSG_FIRSTHDR(&hdr);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &hdr, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int fd_recv(int sock)
{
    char byte, control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    struct cmsghdr *c;
    int fd = -1;

    if (recvmsg(sock, &hdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
        return -1;
    c = CMSG_FIRSTHDR(&hdr);
    if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}
