#define _GNU_SOURCE
#include "CPodShim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sched.h>
#include <time.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int pod_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int pod_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int pod_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int pod_process_in_group(pid_t pid, gid_t gid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Groups:", 7) != 0) continue;
        char *p = line + 7;
        while (*p) {
            char *end;
            unsigned long g = strtoul(p, &end, 10);
            if (end == p) break;
            if ((gid_t)g == gid) { found = 1; break; }
            p = end;
        }
        break;
    }
    fclose(f);
    return found;
}

// Both spawns: the child starts with default signal dispositions and an empty mask,
// whatever the Swift runtime and NIO set up in podd's threads. 0, or -1 with nothing to free.
static int spawn_prepare(posix_spawn_file_actions_t *actions, posix_spawnattr_t *attr, short flags) {
    if (posix_spawn_file_actions_init(actions) != 0) return -1;
    if (posix_spawnattr_init(attr) != 0) { posix_spawn_file_actions_destroy(actions); return -1; }
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | flags);
    return 0;
}

pid_t pod_spawn(const char *path, char *const argv[], char *const envp[], int fd3, int logfd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    pid_t pid = -1;
    int rc;
    if (spawn_prepare(&actions, &attr, POSIX_SPAWN_SETSID) != 0) return -1;
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (logfd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, logfd, 1);
        posix_spawn_file_actions_adddup2(&actions, logfd, 2);
    }
    // dup2 clears FD_CLOEXEC on the new descriptor, so fd 3 survives the exec; when fd3 is
    // already 3, dup2 would be a no-op that keeps the flag, so go through a spare number.
    if (fd3 == 3) {
        posix_spawn_file_actions_adddup2(&actions, 3, 100);
        posix_spawn_file_actions_adddup2(&actions, 100, 3);
        posix_spawn_file_actions_addclose(&actions, 100);
    } else if (fd3 >= 0) {
        posix_spawn_file_actions_adddup2(&actions, fd3, 3);
    }
    // Nothing else reaches the child, even a descriptor another thread of podd made without
    // close-on-exec a moment ago (NIO accepts API connections with accept4 and no
    // SOCK_CLOEXEC): it would stay open in a monitor as long as the pod runs.
    posix_spawn_file_actions_addclosefrom_np(&actions, fd3 >= 0 ? 4 : 3);
    rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) { errno = rc; return -1; }
    return pid;
}

pid_t pod_spawn_stdio(const char *path, char *const argv[], char *const envp[], int in, int out, int err) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    pid_t pid = -1;
    int rc;
    if (spawn_prepare(&actions, &attr, 0) != 0) return -1;
    // The pipes' ends are above 2 (podd's own 0-2 are always open): dup2 onto 0-2 clears
    // close-on-exec there, and closefrom ends everything else.
    posix_spawn_file_actions_adddup2(&actions, in, 0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, err, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) { errno = rc; return -1; }
    return pid;
}

ssize_t pod_send_message(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    char control[CMSG_SPACE(sizeof(int) * 8)];
    if (nfds > 8) { errno = EINVAL; return -1; }
    if (nfds > 0) {
        memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t pod_recv_message(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds) {
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n;
    *nfds = 0;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *received = (int *)CMSG_DATA(c);
        for (int i = 0; i < count; i++) {
            if (*nfds < maxfds) fds[(*nfds)++] = received[i];
            else close(received[i]);
        }
    }
    return n;
}


#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* What the spawned child does between clone3 and execve: default signal dispositions and an
 * empty mask, /dev/null on 0, fd3 on 3, nothing else open, a session of its own. Raw,
 * async-signal-safe calls only (sigaction, sigprocmask, open, dup2, fcntl, close_range,
 * pidfd_open, pidfd_getfd, setsid, execve, _exit), never malloc: the child may share podd's
 * memory (below), and another thread of podd may hold the allocator's lock at the moment of
 * the clone. */
struct spawn_child_args {
    const char *path;
    char *const *argv;
    char *const *envp;
    int fd3;
    /* The child shares podd's fd table (CLONE_FILES) and must make one of its own first. */
    int shares_files;
    pid_t parent;
    /* Set by a child sharing the fd table when it could not take fd3 from podd (errno);
     * it then exits without exec, and the spawn is made again without sharing. */
    int files_error;
};

/* A table of fds of the child's own, holding 0-2 and fd3 (as 3) of podd's shared one,
 * without copying the rest: with 1,000 pods podd holds a few thousand fds, and copying them
 * at the clone and closing them all again before the exec was about a millisecond of every
 * pod create. close_range's unshare copies only the fds below its range; fd3 is then taken
 * from podd by pidfd_getfd (which needs podd to be ptrace-able by its own child). 0 or errno. */
static int own_fd_table(const struct spawn_child_args *a) {
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_UNSHARE) < 0) return errno;
    if (a->fd3 < 0) return 0;
    int pidfd = (int)syscall(SYS_pidfd_open, a->parent, 0);   /* the lowest free: 3 */
    if (pidfd < 0) return errno;
    int fd = (int)syscall(SYS_pidfd_getfd, pidfd, a->fd3, 0);
    if (fd < 0) return errno;
    if (dup2(fd, 3) < 0) return errno;   /* replaces the pidfd; clears FD_CLOEXEC on 3 */
    close(fd);
    return 0;
}

static int spawn_child(void *p) {
    struct spawn_child_args *a = p;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < 65; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (a->shares_files) {
        int err = own_fd_table(a);
        if (err != 0) {
            a->files_error = err;
            _exit(126);
        }
    } else if (a->fd3 == 3) {
        if (fcntl(3, F_SETFD, 0) < 0) _exit(126);
    } else if (a->fd3 >= 0) {
        if (dup2(a->fd3, 3) < 0) _exit(126);   // dup2 clears FD_CLOEXEC on 3
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, 0) < 0) _exit(126);
    // As in pod_spawn: 0-2 and 3 only, whatever another thread opened without close-on-exec.
    // (A child with a table of its own has nothing else but /dev/null's fd, close-on-exec.)
    if (!a->shares_files) syscall(SYS_close_range, a->fd3 >= 0 ? 4U : 3U, ~0U, 0U);
    setsid();
    execve(a->path, a->argv, a->envp);
    _exit(127);
}

#if defined(__x86_64__)
/* long pod_clone3_call(struct clone_args *args, size_t size, int (*fn)(void *), void *arg):
 * clone3, then in the child (on the stack args names) fn(arg) and exit with its result. C
 * cannot do this with CLONE_VM: the child would return from the syscall wrapper into the
 * parent's stack frames. The child starts with the parent's registers but for rax (0),
 * rcx and r11, and rsp at the top of its stack (16-byte aligned: the call makes it as a
 * function entry expects). */
long pod_clone3_call(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);
__asm__(
    ".text\n"
    ".globl pod_clone3_call\n"
    ".hidden pod_clone3_call\n"
    ".type pod_clone3_call,@function\n"
    "pod_clone3_call:\n"
    "    mov %rdx, %r9\n"
    "    mov %rcx, %r8\n"
    "    mov $435, %eax\n"
    "    syscall\n"
    "    test %rax, %rax\n"
    "    jnz 1f\n"
    "    xor %ebp, %ebp\n"
    "    mov %r8, %rdi\n"
    "    call *%r9\n"
    "    mov %eax, %edi\n"
    "    mov $60, %eax\n"
    "    syscall\n"
    "    hlt\n"
    "1:  ret\n"
    ".size pod_clone3_call, .-pod_clone3_call\n");
#define POD_SPAWN_SHARES_MEMORY 1
#endif

/* Whether a spawn's child may share podd's fd table (own_fd_table): until a child finds
 * that it cannot take fd3 from podd, then never again. */
static int spawn_shares_files = 1;

static pid_t spawn_in_cgroup(struct spawn_child_args *child, int cgroup_fd) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    args.cgroup = (unsigned long long)cgroup_fd;
#ifdef POD_SPAWN_SHARES_MEMORY
    /* CLONE_VM | CLONE_VFORK, as posix_spawn: the child runs in podd's memory, on a stack of
     * its own, and this thread waits until it has exec'd (or exited). Copying podd's page
     * tables for a child that execs at once (a fork) cost about 1 ms of every pod start,
     * and copy-on-write faults in podd after it. Every signal stays blocked from before the
     * clone until the child has reset its handlers: a handler of podd's must never run in
     * the child. */
    enum { STACK = 64 * 1024 };
    void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    // Raw: glibc's wrappers leave its own two internal signals unblocked.
    sigset_t all, old;
    memset(&all, 0xff, sizeof all);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, _NSIG / 8);
    args.flags = CLONE_INTO_CGROUP | CLONE_VM | CLONE_VFORK | (child->shares_files ? CLONE_FILES : 0);
    args.stack = (unsigned long long)(uintptr_t)stack;
    args.stack_size = STACK;
    long pid = pod_clone3_call(&args, sizeof args, spawn_child, child);
    int saved = errno;
    if (pid < 0) saved = (int)-pid;   // the raw syscall's error
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
    munmap(stack, STACK);
    if (pid < 0) { errno = saved; return -1; }
    return (pid_t)pid;
#else
    // A fork (no CLONE_VM): the child has its own copy of memory, and never shares the fd
    // table (it could not report back that it failed to take fd3).
    child->shares_files = 0;
    args.flags = CLONE_INTO_CGROUP | CLONE_VFORK;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid != 0) return (pid_t)pid;   // parent (or -1)
    spawn_child(child);
    _exit(127);
#endif
}

pid_t pod_spawn_in_cgroup(const char *path, char *const argv[], char *const envp[], int fd3, int cgroup_fd) {
    struct spawn_child_args child = {.path = path, .argv = argv, .envp = envp, .fd3 = fd3,
                                     .shares_files = __atomic_load_n(&spawn_shares_files, __ATOMIC_RELAXED),
                                     .parent = getpid()};
    pid_t pid = spawn_in_cgroup(&child, cgroup_fd);
    if (pid > 0 && child.files_error != 0) {
        // The child exited before its exec (the vfork wait makes that certain): reap it,
        // and spawn again the way that needs no access to podd.
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        __atomic_store_n(&spawn_shares_files, 0, __ATOMIC_RELAXED);
        child.shares_files = 0;
        child.files_error = 0;
        pid = spawn_in_cgroup(&child, cgroup_fd);
    }
    return pid;
}



int pod_connect_in_netns(int netns_fd, const char *host, int port, int timeout_ms) {
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    struct sockaddr *addr;
    socklen_t len;
    int domain;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((unsigned short)port);
        addr = (struct sockaddr *)&a4;
        len = sizeof a4;
        domain = AF_INET;
    } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((unsigned short)port);
        addr = (struct sockaddr *)&a6;
        len = sizeof a6;
        domain = AF_INET6;
    } else {
        errno = EINVAL;
        return -1;
    }
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return -1;
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        int e = errno;
        close(home);
        errno = e;
        return -1;
    }
    int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int saved = errno;
    // Back home before anything else: this thread must not stay in the pod's namespace.
    if (setns(home, CLONE_NEWNET) < 0) abort();
    close(home);
    if (fd < 0) { errno = saved; return -1; }
    if (connect(fd, addr, len) < 0) {
        if (errno != EINPROGRESS) { saved = errno; close(fd); errno = saved; return -1; }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n;
        do { n = poll(&p, 1, timeout_ms); } while (n < 0 && errno == EINTR);
        if (n == 0) { close(fd); errno = ETIMEDOUT; return -1; }
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (n < 0 || err != 0) { close(fd); errno = err ? err : EIO; return -1; }
    }
    return fd;
}

#include <sys/prctl.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int pod_pidfd_reap(int pidfd) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) < 0) return -1;
    if (info.si_pid == 0) { errno = EAGAIN; return -1; }
    return 0;
}

int pod_reap_if_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG) < 0) return -1;
    return info.si_pid == 0 ? 0 : 1;
}

pid_t pod_exited_child(void) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0) return -1;
    return info.si_pid;
}

int pod_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int pod_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
