// CPodShim: the few Linux calls that Swift's Glibc module does not expose (pidfd_*, the
// variadic syscall(2), SCM_CREDENTIALS/SCM_RIGHTS control messages), as plain C functions
// prefixed pod_. Every function returns -1 and leaves errno set on failure, as libc does.
#pragma once
#include <sys/types.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <grp.h>

/// pidfd_open(2): a file descriptor that refers to process `pid` (never to a later process
/// that reuses the pid). Readable (EPOLLIN) when the process has exited.
int pod_pidfd_open(pid_t pid);

/// pidfd_send_signal(2).
int pod_pidfd_send_signal(int pidfd, int sig);

/// The credentials of the peer of a connected AF_UNIX socket (SO_PEERCRED).
int pod_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// Whether `uid` is root or a member (primary or supplementary) of group `gid`,
/// as read from the process `pid` (/proc/PID/status Groups:). Returns 1, 0, or -1.
int pod_process_in_group(pid_t pid, gid_t gid);

/// posix_spawn `path` with `argv`/`envp`, with `fd3` (if >= 0) as the child's fd 3, stdin
/// from /dev/null and stdout/stderr to `logfd` (or inherited when -1); every other fd is
/// closed in the child (closefrom), so none of podd's reaches it. Returns the pid or -1.
pid_t pod_spawn(const char *path, char *const argv[], char *const envp[], int fd3, int logfd);

/// posix_spawn `path` with `in`, `out`, `err` as its stdin, stdout and stderr, default
/// signals and an empty mask, every other descriptor closed (a CNI plugin: pipes for its
/// config, result and messages). Same session as podd. Returns the pid, or -1 with errno.
pid_t pod_spawn_stdio(const char *path, char *const argv[], char *const envp[], int in, int out, int err);

/// Sends one SOCK_SEQPACKET message, optionally passing file descriptors (SCM_RIGHTS).
ssize_t pod_send_message(int sock, const void *buf, size_t len, const int *fds, int nfds);

/// Receives one message; received descriptors (at most `maxfds`) go to `fds`, their count to
/// `*nfds`. Returns the message length, 0 at end of stream, -1 on error.
ssize_t pod_recv_message(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds);

/// struct ucred's layout, for reading SO_PEERCRED through APIs that take a value type
/// (Glibc's module hides struct ucred behind _GNU_SOURCE).
struct pod_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/// Like pod_spawn (fd 3, stdin /dev/null, new session, default signals), but the child starts
/// inside the cgroup `cgroup_fd` (clone3 CLONE_INTO_CGROUP): no migration afterwards, which
/// would cost an RCU grace period. Returns the pid, or -1 with errno (ENOSYS, E2BIG or EINVAL
/// when the kernel lacks it: then fall back to pod_spawn).
pid_t pod_spawn_in_cgroup(const char *path, char *const argv[], char *const envp[], int fd3, int cgroup_fd);

/// Connects a TCP socket to host:port from inside the network namespace `netns_fd` (a pod's):
/// the calling thread enters the namespace just to create the socket, then returns to its own
/// (setns(CLONE_NEWNET) is per thread; a socket stays in the namespace it was made in).
/// Waits at most `timeout_ms`. Returns the connected fd, or -1 with errno (ETIMEDOUT on
/// timeout).
int pod_connect_in_netns(int netns_fd, const char *host, int port, int timeout_ms);

/// A listening AF_UNIX stream socket (non-blocking, close-on-exec, backlog 1) bound to the
/// abstract name `name` (no leading NUL: it is added), or -1 with errno (EADDRINUSE).
int pod_listen_abstract(const char *name);

/// A connected, non-blocking, close-on-exec AF_UNIX stream socket to the abstract name
/// `name` (no leading NUL), or -1 with errno.
int pod_connect_abstract(const char *name);

/// splice(2) of up to `len` bytes from `from` to `to` (one of them a pipe), SPLICE_F_MOVE |
/// SPLICE_F_NONBLOCK, retried on EINTR: the count, 0 at end of file, -1 with errno (EAGAIN).
ssize_t pod_splice(int from, int to, size_t len);

/// pipe2(O_CLOEXEC | O_NONBLOCK), asking for `size` bytes of room (F_SETPIPE_SZ): the
/// room it has, or -1 with errno.
int pod_pipe_nonblocking(int fds[2], int size);

/// Reaps a child that has exited, by pidfd (waitid P_PIDFD): never another child. Returns 0,
/// or -1 with errno (ECHILD when it is not our child, EAGAIN when it still runs).
int pod_pidfd_reap(int pidfd);

/// Reaps child `pid` if it has exited (waitid P_PID, WEXITED|WNOHANG). Returns 1 when it
/// was reaped, 0 when it still runs, -1 with errno (ECHILD: not a child).
int pod_reap_if_exited(pid_t pid);
/// A child that has exited, not reaped (waitid P_ALL, WNOWAIT): its pid, 0 when none has,
/// -1 with errno (ECHILD: no children).
pid_t pod_exited_child(void);

/// Makes the calling process a child subreaper (orphaned descendants become its children).
int pod_set_child_subreaper(void);

/// pipe2(O_CLOEXEC): a pipe whose ends no concurrently spawned child inherits (Glibc's module
/// lacks pipe2). fds[0] is the read end.
int pod_pipe_cloexec(int fds[2]);
