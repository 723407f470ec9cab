/* podd-monitor - the per-pod monitor: holds a pod's namespaces, forks and execs its
 * containers, writes their output to CRI logs and reports their exits to podd.
 * docs/monitor-protocol.md is the contract; this file is start-up and the event loop.
 *
 *     podd-monitor --pod-dir DIR --hostname NAME [--share-pid] [--cgroup CGDIR]
 *                  [--cgroup-v1 DIR]...
 *
 * fd 3 is podd's first control connection (a SOCK_SEQPACKET socketpair end).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cgroup.h"
#include "devices.h"
#include "pod.h"
#include "podsecurity.h"
#include "seccomp.h"
#include "usernamespace.h"
#include "procfs.h"
#include "protocol.h"
#include "sandbox.h"
#include "setup_error.h"

#define CONTROL_FD 3

struct options {
    const char *pod_dir;
    const char *hostname;
    const char *cgroup_dir;
    int share_pid;
    int host_network;
    const char *tmpfs_path[SANDBOX_MAX_TMPFS];
    unsigned long long tmpfs_size[SANDBOX_MAX_TMPFS];
    int tmpfs_count;
    int host_ipc;
    unsigned long userns_base, userns_count; /* --userns BASE:COUNT, count 0: none */
    struct pod_security security;
};

/* Paths under the pod directory, fixed at start-up. */
struct pod_paths {
    char pidfile[PATH_MAX];
    char socket[PATH_MAX];
    char shm[PATH_MAX];
};

static _Noreturn void usage(const char *why)
{
    fprintf(stderr,
            "podd-monitor: %s\n"
            "usage: podd-monitor --pod-dir DIR --hostname NAME [--share-pid] [--host-network] [--cgroup CGDIR]\n"
            "                    [--cgroup-v1 DIR]... [--tmpfs PATH[:BYTES]]... [--host-ipc] [--sysctl NAME=VALUE]...\n"
            "                    [--fs-group GID] [--userns BASE:COUNT] [--seccomp-cache DIR]\n"
            "       (fd 3: a SOCK_SEQPACKET connection to podd)\n",
            why);
    exit(2);
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"pod-dir", required_argument, NULL, 'd'},
        {"hostname", required_argument, NULL, 'h'},
        {"cgroup", required_argument, NULL, 'c'},
        {"cgroup-v1", required_argument, NULL, 'v'},
        {"share-pid", no_argument, NULL, 'p'},
        {"host-network", no_argument, NULL, 'n'},
        {"tmpfs", required_argument, NULL, 't'},
        {"host-ipc", no_argument, NULL, 'i'},
        {"sysctl", required_argument, NULL, 's'},
        {"fs-group", required_argument, NULL, 'g'},
        {"userns", required_argument, NULL, 'u'},
        {"seccomp-cache", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    memset(o, 0, sizeof *o);
    o->security.fs_group = -1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': o->pod_dir = optarg; break;
        case 'h': o->hostname = optarg; break;
        case 'c': o->cgroup_dir = optarg; break;
        case 'v':
            if (cgroup_v1_add(optarg) < 0)
                usage("--cgroup-v1 needs an absolute path (at most 8)");
            break;
        case 'p': o->share_pid = 1; break;
        case 'n': o->host_network = 1; break;
        case 't': {
            char *colon = strrchr(optarg, ':');
            if (o->tmpfs_count >= SANDBOX_MAX_TMPFS)
                usage("too many --tmpfs");
            if (optarg[0] != '/')
                usage("--tmpfs needs an absolute path");
            o->tmpfs_size[o->tmpfs_count] = 0;
            if (colon != NULL) {
                char *end;
                *colon = '\0';
                o->tmpfs_size[o->tmpfs_count] = strtoull(colon + 1, &end, 10);
                if (*end != '\0')
                    usage("--tmpfs PATH:BYTES needs a number of bytes");
            }
            o->tmpfs_path[o->tmpfs_count++] = optarg;
            break;
        }
        case 'i': o->host_ipc = 1; break;
        case 'S':
            if (optarg[0] != '/')
                usage("--seccomp-cache must be an absolute path");
            seccomp_set_cache_dir(optarg);
            break;
        case 'u': {
            char *end;
            o->userns_base = strtoul(optarg, &end, 10);
            if (*end != ':' || optarg[0] < '0' || optarg[0] > '9')
                usage("--userns takes BASE:COUNT");
            o->userns_count = strtoul(end + 1, &end, 10);
            if (*end != '\0' || o->userns_count == 0 || o->userns_base + o->userns_count > 0xffffffffUL)
                usage("--userns takes BASE:COUNT within 32-bit IDs");
            break;
        }
        case 's':
            if (o->security.sysctl_count >= POD_MAX_SYSCTLS || !pod_sysctl_valid(optarg))
                usage("--sysctl takes NAME=VALUE (at most 64)");
            o->security.sysctl[o->security.sysctl_count++] = optarg;
            break;
        case 'g': {
            char *end;
            o->security.fs_group = strtoll(optarg, &end, 10);
            if (*end != '\0' || optarg[0] < '0' || optarg[0] > '9' || o->security.fs_group > 0xfffffffeLL)
                usage("--fs-group takes a numeric group ID");
            break;
        }
        default: usage("unknown option");
        }
    }
    if (optind != argc)
        usage("unexpected argument");
    if (o->pod_dir == NULL || o->pod_dir[0] != '/')
        usage("--pod-dir must be an absolute path");
    if (o->hostname == NULL || o->hostname[0] == '\0' || strlen(o->hostname) > 64)
        usage("--hostname must be 1-64 characters");
    if (o->cgroup_dir != NULL && o->cgroup_dir[0] != '/')
        usage("--cgroup must be an absolute path");
}

static void send_on(int fd, const struct msg_out *m)
{
    ssize_t n = send(fd, m->buf, m->len, MSG_NOSIGNAL);
    (void)n; /* before ready, nobody else to tell */
}

/* Any failure before `ready`: tell podd what failed, and stop. */
static _Noreturn void fatal(const struct setup_error *e)
{
    struct msg_out m;
    msg_begin(&m, "fatal");
    msg_add(&m, "stage", e->stage);
    msg_addf(&m, "errno", "%d", e->err);
    msg_add(&m, "message", e->message);
    send_on(CONTROL_FD, &m);
    fprintf(stderr, "podd-monitor: %s: %s\n", e->stage, e->message);
    exit(1);
}

/* A failure after monitor.pid or monitor.sock exist: remove them, so that podd does not
 * take them for a live monitor. */
static _Noreturn void fatal_after_files(const struct pod_paths *paths, const struct setup_error *e)
{
    unlink(paths->socket);
    unlink(paths->pidfile);
    fatal(e);
}

/* monitor.pid: "HOSTPID STARTTIME FEATURES\n", so podd can find (and later recognise,
 * despite PID reuse) the monitor after its own restart, and knows which keys it may send a
 * monitor of this version (FEATURES, comma-separated: "oom" for oomScoreAdj). Written
 * whole via rename. */
static int write_pidfile(const char *path, pid_t hostpid, unsigned long long starttime,
                         struct setup_error *e)
{
    char tmp[PATH_MAX + 8], line[64];
    int fd, len;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    len = snprintf(line, sizeof line, "%d %llu oom\n", (int)hostpid, starttime);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return setup_fail(e, errno, "monitor.pid", "create %s: %s", tmp, strerror(errno));
    if (write(fd, line, (size_t)len) != len || close(fd) < 0 || rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        return setup_fail(e, err, "monitor.pid", "write %s: %s", path, strerror(err));
    }
    return 0;
}

static int listen_socket(const char *path, struct setup_error *e)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    mode_t old;
    int fd;

    if (strlen(path) >= sizeof addr.sun_path)
        return setup_fail(e, ENAMETOOLONG, "monitor.sock", "%s: path too long for a socket", path);
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return setup_fail(e, errno, "monitor.sock", "socket: %s", strerror(errno));
    /* A socket left by a monitor that died would make bind fail; this pod dir is ours. */
    unlink(path);
    /* Mode 0600 from the start (umask), not after a chmod: only root (podd) may connect. */
    old = umask(0177);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 4) < 0) {
        int err = errno;
        umask(old);
        close(fd);
        return setup_fail(e, err, "monitor.sock", "listen on %s: %s", path, strerror(err));
    }
    umask(old);
    return fd;
}

/* A control connection must not be able to block the monitor for long: see pod_send. */
static void prepare_control(int fd)
{
    struct timeval timeout = {.tv_sec = 2, .tv_usec = 0};
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

static void set_control(struct pod *p, int fd)
{
    /* EPOLLRDHUP tells a closed connection from an empty datagram: both read as 0. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = EV_CONTROL};

    /* A new connection replaces the previous one (a restarted podd; the old one is dead
     * or about to be). */
    if (p->control >= 0) {
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->control, NULL);
        close(p->control);
    }
    p->control = fd;
    prepare_control(fd);
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        p->control = -1;
    }
}

static void drop_control(struct pod *p)
{
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->control, NULL);
    close(p->control);
    p->control = -1;
}

/* recv of one datagram, with the descriptors passed along with it (exec and attach send
 * the session's socket and stdio). Close-on-exec at once, so no container inherits them. */
static ssize_t recv_with_fds(int sock, char *buf, size_t len, struct msg_fds *fds)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    char control[CMSG_SPACE(sizeof(int) * MSG_FDS_MAX)];
    struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    ssize_t n;

    fds->count = 0;
    n = recvmsg(sock, &hdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&hdr); c != NULL; c = CMSG_NXTHDR(&hdr, c)) {
        int count, *passed;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        passed = (int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (fds->count < MSG_FDS_MAX)
                fds->fd[fds->count++] = passed[i];
            else
                close(passed[i]);
        }
    }
    return n;
}

/* Read one datagram from podd and act on it. EVENTS are epoll's flags for the connection. */
static enum pod_verdict read_control(struct pod *p, uint32_t events)
{
    struct msg_fds fds = {.count = 0};
    enum pod_verdict verdict;
    ssize_t size, n;
    char *buf;

    /* Peek at the size first, so the buffer is exactly as big as this message: spawn
     * messages may be large, and a fixed large buffer would cost memory all the time. */
    size = recv(p->control, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (size < 0 && (errno == EAGAIN || errno == EINTR))
        return POD_CONTINUE;
    if (size == 0 && !(events & (EPOLLRDHUP | EPOLLHUP))) {
        char discard;
        n = recv(p->control, &discard, 1, MSG_DONTWAIT); /* consume the empty datagram */
        (void)n;
        pod_send_error(p, NULL, NULL, "empty message");
        return POD_CONTINUE;
    }
    if (size <= 0) { /* podd closed the connection, or it failed */
        drop_control(p);
        return POD_CONTINUE;
    }
    if (size > MSG_IN_MAX) {
        char discard;
        n = recv(p->control, &discard, 1, MSG_DONTWAIT);
        (void)n;
        pod_send_error(p, NULL, NULL, "message larger than 1 MiB ignored");
        return POD_CONTINUE;
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL) {
        char discard;
        n = recv(p->control, &discard, 1, MSG_DONTWAIT);
        (void)n;
        pod_send_error(p, NULL, NULL, "out of memory receiving a message");
        return POD_CONTINUE;
    }
    n = recv_with_fds(p->control, buf, (size_t)size, &fds);
    if (n <= 0) {
        free(buf);
        msg_fds_close(&fds);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return POD_CONTINUE;
        drop_control(p);
        return POD_CONTINUE;
    }
    verdict = pod_handle_message(p, buf, (size_t)n, &fds);
    msg_fds_close(&fds); /* the ones the handler did not take */
    free(buf);
    return verdict;
}

/* Whether podd's next message is already on the control connection. */
static int message_waiting(const struct pod *p)
{
    char byte;
    return p->control >= 0 && recv(p->control, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void accept_control(struct pod *p, int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        set_control(p, fd);
}

/* SIGCHLD: reap. SIGTERM, SIGINT, SIGHUP: ignored on purpose: a pod must survive a
 * signal meant for podd's process group or session; podd stops the monitor with
 * op=shutdown. They are read here (not left at their default) because the default would
 * kill the monitor, and as PID 1 of the pod they would be dropped anyway. */
static void read_signals(struct pod *p, int sfd)
{
    struct signalfd_siginfo si;
    int child = 0;

    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo == SIGCHLD)
            child = 1;
    /* Several SIGCHLDs may have merged into one: reap until none is left, regardless. */
    if (child)
        pod_reap(p);
}

static _Noreturn void shutdown_pod(struct pod *p, const struct pod_paths *paths)
{
    struct msg_out m;
    pod_shutdown(p);
    unlink(paths->socket);
    unlink(paths->pidfile);
    msg_begin(&m, "bye");
    pod_send(p, &m);
    exit(0);
}

static _Noreturn void run(struct pod *p, int listen_fd, int sfd, const struct pod_paths *paths)
{
    struct epoll_event events[16];

    for (;;) {
        int n = epoll_wait(p->epfd, events, 16, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* epoll_wait fails only on a programming error; spin rather than die would
             * hide it, dying would orphan the pod: shut it down cleanly. */
            shutdown_pod(p, paths);
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            /* Every other event sees the pod's containers started or failed. */
            if ((tag & 0xff) != EV_CONTROL)
                pod_finish_launches(p);
            switch (tag & 0xff) {
            case EV_LISTEN:
                accept_control(p, listen_fd);
                break;
            case EV_CONTROL:
                if (p->control >= 0 && read_control(p, events[i].events) == POD_SHUTDOWN)
                    shutdown_pod(p, paths);
                /* Containers launched stay unfinished only while podd's next message (the
                 * pod's next spawn) is already waiting: they then set up side by side. */
                if (!pod_launch_open(p) || !message_waiting(p))
                    pod_finish_launches(p);
                break;
            case EV_SIGNAL:
                read_signals(p, sfd);
                break;
            case EV_STREAM:
                pod_stream_ready(p, (unsigned)((tag >> 8) & 0xff), (unsigned)((tag >> 16) & 0xff));
                break;
            case EV_SESSION:
                pod_session_ready(p, (unsigned)((tag >> 8) & 0xff), events[i].events);
                break;
            }
        }
    }
}

/* fds 0-2 must be open, or the first pipe or socket would take their numbers and a
 * container's dup2 onto 1 or 2 would silently do nothing. Also, the monitor outlives
 * podd, so it must not keep podd's terminal or pipes as stdin/stdout. */
static void settle_stdio(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0)
            dup2(fd, i);
    dup2(fd, 0);
    dup2(fd, 1);
    if (fd > 2)
        close(fd);
}

int main(int argc, char **argv)
{
    struct options o;
    struct pod_paths paths;
    struct setup_error e;
    struct sandbox_config sb;
    struct epoll_event ev;
    static struct pod pod; /* static: 64 container records, off the small stack */
    sigset_t mask;
    pid_t pid, hostpid;
    unsigned long long starttime;
    int listen_fd, sfd, epfd, stub_done[2];

    parse_options(argc, argv, &o);
    if (fcntl(CONTROL_FD, F_GETFD) < 0)
        usage("fd 3 must be a SOCK_SEQPACKET connection to podd");
    fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
    /* The monitor outlives podd: a descriptor podd let slip through (one made without
     * close-on-exec by another of its threads while it spawned this one, say an API
     * connection) would stay open as long as the pod runs, and its client would never see
     * it close. Only 0-2 and the control connection are the monitor's. */
    if (syscall(SYS_close_range, CONTROL_FD + 1, ~0U, 0) < 0)
        for (int fd = CONTROL_FD + 1; fd < 1024; fd++)
            close(fd);
    settle_stdio();
    memset(&e, 0, sizeof e);
    if (snprintf(paths.pidfile, sizeof paths.pidfile, "%s/monitor.pid", o.pod_dir) >= PATH_MAX ||
        snprintf(paths.socket, sizeof paths.socket, "%s/monitor.sock", o.pod_dir) >= PATH_MAX ||
        snprintf(paths.shm, sizeof paths.shm, "%s/shm", o.pod_dir) >= PATH_MAX) {
        setup_fail(&e, ENAMETOOLONG, "args", "--pod-dir too long");
        fatal(&e);
    }

    /* Block the signals we handle before forking anything, so none is lost between now
     * and the signalfd; SIGCHLD back to default in case podd left it ignored (ignored
     * would auto-reap and lose exit codes); SIGPIPE ignored (sends use MSG_NOSIGNAL too). */
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    /* Files come out with the modes the protocol promises (log 0640), whatever umask
     * podd had. */
    umask(022);

    sb = (struct sandbox_config){.cgroup_dir = o.cgroup_dir, .hostname = o.hostname,
                                 .share_pid = o.share_pid, .host_ipc = o.host_ipc, .host_network = o.host_network,
                                 .shm_dir = paths.shm,
                                 .tmpfs_count = o.tmpfs_count};
    for (int i = 0; i < o.tmpfs_count; i++) {
        sb.tmpfs_path[i] = o.tmpfs_path[i];
        sb.tmpfs_size[i] = o.tmpfs_size[i];
    }
    if (sandbox_create(&sb, &e) < 0)
        fatal(&e);
    if (pod_security_apply(&o.security, o.tmpfs_path, o.tmpfs_count, &e) < 0)
        fatal(&e);

    /* Daemonize: the stub (this process) exits so podd can reap it at once, and the
     * monitor is reparented away from podd; with --share-pid, the child is also the first
     * process of the new PID namespace, its PID 1. The pipe orders the messages on fd 3:
     * the child says nothing (ready or fatal) before EOF, i.e. before the stub has sent
     * `spawned` and exited. */
    if (pipe2(stub_done, O_CLOEXEC) < 0) {
        setup_fail(&e, errno, "fork", "pipe: %s", strerror(errno));
        fatal(&e);
    }
    pid = fork();
    if (pid < 0) {
        setup_fail(&e, errno, "fork", "%s", strerror(errno));
        fatal(&e);
    }
    if (pid > 0) {
        struct msg_out m;
        msg_begin(&m, "spawned");
        msg_addf(&m, "pid", "%d", (int)pid);
        send_on(CONTROL_FD, &m);
        _exit(0);
    }
    close(stub_done[1]);
    {
        char byte;
        while (read(stub_done[0], &byte, 1) < 0 && errno == EINTR)
            ;
    }
    close(stub_done[0]);

    /* A session of its own: no controlling terminal, no signals for podd's group. */
    setsid();
    /* Orphans of containers are reparented to the nearest subreaper: the monitor reaps
     * them even when it is not the pod's PID 1. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    /* Not dumpable: containers sharing the pod's PID namespace see the monitor as PID 1,
     * and must not be able to open its /proc files (root, fds, memory). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Hold no directory of the host busy. */
    if (chdir("/") < 0) {
        setup_fail(&e, errno, "chdir(/)", "%s", strerror(errno));
        fatal(&e);
    }

    hostpid = proc_self_hostpid();
    if (hostpid <= 0 || proc_starttime(hostpid, &starttime) < 0) {
        setup_fail(&e, errno, "monitor.pid", "read /proc/self: %s", strerror(errno));
        fatal(&e);
    }
    if (write_pidfile(paths.pidfile, hostpid, starttime, &e) < 0)
        fatal_after_files(&paths, &e);
    listen_fd = listen_socket(paths.socket, &e);
    if (listen_fd < 0)
        fatal_after_files(&paths, &e);
    sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        setup_fail(&e, errno, "signalfd", "%s", strerror(errno));
        fatal_after_files(&paths, &e);
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        setup_fail(&e, errno, "epoll", "%s", strerror(errno));
        fatal_after_files(&paths, &e);
    }
    pod_init(&pod, o.cgroup_dir, paths.shm, o.share_pid, epfd);
    if (o.userns_count > 0) {
        pod.userns_root = o.userns_base;
        pod.userns_fd = userns_create(o.userns_base, o.userns_count, &e);
        if (pod.userns_fd < 0)
            fatal_after_files(&paths, &e);
    }
    /* No cgroup v2 group: the v1 devices controller holds the device allowlist (devices.h).
     * Without either, containers run without CAP_MKNOD. */
    if (o.cgroup_dir == NULL) {
        static char devices_dir[PATH_MAX];
        const char *uid = strrchr(o.pod_dir, '/');
        if (devices_v1_prepare(devices_dir, sizeof devices_dir, uid != NULL ? uid + 1 : o.pod_dir) == 0)
            pod.devices_v1_dir = devices_dir;
        else
            fprintf(stderr, "podd-monitor: no device cgroup for the pod (%s): containers run without CAP_MKNOD\n",
                    strerror(errno));
    }
    ev.events = EPOLLIN;
    ev.data.u64 = EV_LISTEN;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        setup_fail(&e, errno, "epoll", "%s", strerror(errno));
        fatal_after_files(&paths, &e);
    }
    ev.data.u64 = EV_SIGNAL;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0) {
        setup_fail(&e, errno, "epoll", "%s", strerror(errno));
        fatal_after_files(&paths, &e);
    }
    set_control(&pod, CONTROL_FD);

    {
        struct msg_out m;
        msg_begin(&m, "ready");
        msg_addf(&m, "pid", "%d", (int)hostpid);
        msg_addf(&m, "starttime", "%llu", starttime);
        pod_send(&pod, &m);
    }
    run(&pod, listen_fd, sfd, &paths);
}
