/* session.c - see session.h. */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "exec.h"
#include "protocol.h"

/* What podd is sent when a container's output is copied to a slow attach client: the pipe
 * is made this large, and what does not fit is dropped for that client (never for the log,
 * never stalling the container). */
#define ATTACH_PIPE_SIZE (1 << 20)

void sessions_init(struct pod *p)
{
    for (int i = 0; i < MAX_SESSIONS; i++) {
        memset(&p->sessions[i], 0, sizeof p->sessions[i]);
        p->sessions[i].sock = p->sessions[i].out_w = p->sessions[i].err_w = -1;
    }
}

static struct container *running_container(struct pod *p, const char *name)
{
    for (int i = 0; i < MAX_CONTAINERS; i++)
        if (p->containers[i].state == CONTAINER_RUNNING && strcmp(p->containers[i].name, name) == 0)
            return &p->containers[i];
    return NULL;
}

static struct session *free_session(struct pod *p)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (p->sessions[i].kind == SESSION_FREE)
            return &p->sessions[i];
    return NULL;
}

/* A send on a session socket: non-blocking, no SIGPIPE. A podd that closed its end gets
 * nothing, which is right: the session is ending anyway. */
static void reply(int sock, const struct msg_out *m, const int *fds, int nfds)
{
    if (sock >= 0)
        msg_send_fds(sock, m, fds, nfds);
}

static void reply_failed(int sock, const char *op, const char *id, const char *stage, int err,
                         const char *message)
{
    struct msg_out m;
    msg_begin(&m, op);
    msg_add(&m, "id", id != NULL ? id : "");
    msg_add(&m, "stage", stage);
    msg_addf(&m, "errno", "%d", err);
    msg_add(&m, "message", message);
    reply(sock, &m, NULL, 0);
}

static void write_status(struct msg_out *m, int status)
{
    if (WIFSIGNALED(status)) {
        msg_addf(m, "exitCode", "%d", 128 + WTERMSIG(status));
        msg_addf(m, "signal", "%d", WTERMSIG(status));
    } else {
        msg_addf(m, "exitCode", "%d", WEXITSTATUS(status));
        msg_add(m, "signal", "0");
    }
}

static int watch_socket(struct pod *p, struct session *s)
{
    /* EPOLLRDHUP: podd closing its end is the session's end; EPOLLIN: its requests. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                             .data.u64 = EV_SESSION_TAG((uint64_t)(s - p->sessions))};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, s->sock, &ev);
}

/* Attach sessions see a container's output through the log stream's tee. */
static void attach_tee(void *ctx, const struct log_stream *ls, const char *data, size_t len)
{
    struct pod *p = ctx;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &p->sessions[i];
        struct container *c;
        int *fd;
        size_t off = 0;

        if (s->kind != SESSION_ATTACH)
            continue;
        c = &p->containers[s->slot];
        fd = ls == &c->out ? &s->out_w : ls == &c->err ? &s->err_w : NULL;
        if (fd == NULL || *fd < 0)
            continue;
        while (off < len) {
            ssize_t n = write(*fd, data + off, len - off);
            if (n > 0) {
                off += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno != EAGAIN) { /* podd closed the pipe */
                close(*fd);
                *fd = -1;
            }
            break; /* full: the rest is dropped for this client */
        }
    }
}

static void update_tee(struct pod *p, int slot)
{
    struct container *c = &p->containers[slot];
    int attached = 0;
    for (int i = 0; i < MAX_SESSIONS; i++)
        attached |= p->sessions[i].kind == SESSION_ATTACH && p->sessions[i].slot == slot;
    c->out.tee = c->err.tee = attached ? attach_tee : NULL;
    c->out.tee_ctx = c->err.tee_ctx = p;
}

static void close_socket(struct pod *p, struct session *s)
{
    if (s->sock < 0)
        return;
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->sock, NULL);
    close(s->sock);
    s->sock = -1;
}

static void release(struct pod *p, struct session *s)
{
    enum session_kind kind = s->kind;
    int slot = s->slot;

    close_socket(p, s);
    if (s->out_w >= 0)
        close(s->out_w);
    if (s->err_w >= 0)
        close(s->err_w);
    memset(s, 0, sizeof *s);
    s->sock = s->out_w = s->err_w = -1;
    if (kind == SESSION_ATTACH)
        update_tee(p, slot);
}

/* stdinOnce: the container's stdin closes when the first session that wrote to it ends.
 * For a terminal that is a hangup: the master is closed (after logging what it holds), so
 * reads of the terminal end, as when a terminal window closes. The kernel's SIGHUP goes to
 * the session leader only, and a container's main process is often PID 1 of its namespace,
 * which ignores signals it has no handler for: so the terminal's foreground job (a command
 * the shell waits for) gets the SIGHUP here, and the shell, reading again, sees the end. */
static void close_container_stdin(struct pod *p, struct container *c)
{
    if (c->state != CONTAINER_RUNNING)
        return;
    if (c->tty) {
        if (c->out.fd >= 0) {
            pid_t foreground = 0;
            if (ioctl(c->out.fd, TIOCGPGRP, &foreground) < 0)
                foreground = 0;
            log_stream_drain(&c->out, &c->log);
            epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->out.fd, NULL);
            log_stream_close(&c->out, &c->log);
            if (foreground > 0 && foreground != c->pid) {
                kill(-foreground, SIGHUP);
                kill(-foreground, SIGCONT);
            }
        }
    } else if (c->stdin_fd >= 0) {
        close(c->stdin_fd);
        c->stdin_fd = -1;
    }
}

/* --- exec --- */

/* The exec session S's processes, looked for in its container's cgroup (where exec_start
 * put them), or in all of /proc without one. */
static void kill_exec_session(struct pod *p, struct session *s)
{
    char cgroup[PATH_MAX];
    const char *dir = NULL;
    if (p->cgroup_dir != NULL &&
        cgroup_container_dir(cgroup, sizeof cgroup, p->cgroup_dir, p->containers[s->slot].name) == 0)
        dir = cgroup;
    exec_kill_session(s->pid, s->hostpid, dir);
}

void session_handle_exec(struct pod *p, const struct msg *msg, struct msg_fds *fds)
{
    int sock = msg_fds_take(fds, 0), stdio[3] = {-1, -1, -1};
    struct exec_spec spec;
    struct exec_target target;
    struct exec_result res;
    struct container *c;
    struct session *s;
    char err[512], cgroup[PATH_MAX];

    if (sock < 0) {
        pod_send_error(p, "exec", msg_get(msg, "name"), "exec needs the session's socket as its first descriptor");
        return;
    }
    if (exec_spec_parse(msg, &spec, err, sizeof err) < 0) {
        reply_failed(sock, "exec-failed", msg_get(msg, "id"), "exec", EINVAL, err);
        close(sock);
        return;
    }
    if (!spec.tty)
        for (int i = 0; i < 3; i++)
            stdio[i] = msg_fds_take(fds, 1 + i);
    c = running_container(p, spec.container);
    s = free_session(p);
    if (c == NULL || s == NULL) {
        if (c == NULL)
            snprintf(err, sizeof err, "container %s is not running", spec.container);
        else
            snprintf(err, sizeof err, "too many exec and attach sessions in this pod (%d)", MAX_SESSIONS);
        reply_failed(sock, "exec-failed", spec.id, "exec", c == NULL ? ESRCH : ENOSPC, err);
        close(sock);
        goto out;
    }

    target.hostpid = c->hostpid;
    target.cgroup_dir = NULL;
    target.devices_v1_dir = p->devices_v1_dir;
    target.userns_fd = p->userns_fd;
    if (p->cgroup_dir != NULL && cgroup_container_dir(cgroup, sizeof cgroup, p->cgroup_dir, c->name) == 0)
        target.cgroup_dir = cgroup;
    if (exec_start(&spec, &target, stdio, &res) < 0) {
        reply_failed(sock, "exec-failed", spec.id, res.error.stage, res.error.err, res.error.message);
        close(sock);
        goto out;
    }

    s->kind = SESSION_EXEC;
    snprintf(s->id, sizeof s->id, "%s", spec.id);
    s->sock = sock;
    s->slot = (int)(c - p->containers);
    s->pid = res.pid;
    s->hostpid = res.hostpid;
    {
        struct msg_out m;
        msg_begin(&m, "exec-started");
        msg_add(&m, "id", s->id);
        msg_addf(&m, "pid", "%d", (int)res.hostpid);
        reply(sock, &m, res.master >= 0 ? &res.master : NULL, res.master >= 0 ? 1 : 0);
        /* podd holds the master now; the monitor has no use for it. */
        if (res.master >= 0)
            close(res.master);
    }
    if (watch_socket(p, s) < 0) {
        /* Unwatchable, so its end could never be seen: end it now rather than leak it. */
        kill_exec_session(p, s);
        close(s->sock);
        s->sock = -1;
    }

out:
    for (int i = 0; i < 3; i++)
        if (stdio[i] >= 0)
            close(stdio[i]);
    exec_spec_free(&spec);
}

int session_reaped(struct pod *p, pid_t pid, int status)
{
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &p->sessions[i];
        struct msg_out m;
        if (s->kind != SESSION_EXEC || s->pid != pid)
            continue;
        s->pid = 0;
        s->exited = 1;
        if (s->sock < 0) { /* podd had ended it already */
            release(p, s);
            return 1;
        }
        msg_begin(&m, "exec-exited");
        msg_add(&m, "id", s->id);
        write_status(&m, status);
        reply(s->sock, &m, NULL, 0);
        /* The record stays until podd closes the socket: then what the command left in
         * its session is killed too. */
        return 1;
    }
    return 0;
}

/* --- attach --- */

void session_handle_attach(struct pod *p, const struct msg *msg, struct msg_fds *fds)
{
    const char *id = msg_get(msg, "id"), *name = msg_get(msg, "name");
    const char *want_in = msg_get(msg, "stdin"), *want_out = msg_get(msg, "stdout"), *want_err = msg_get(msg, "stderr");
    int sock = msg_fds_take(fds, 0), next = 1, in = -1;
    struct container *c;
    struct session *s;
    char err[256];

    if (sock < 0) {
        pod_send_error(p, "attach", name, "attach needs the session's socket as its first descriptor");
        return;
    }
    if (id == NULL || id[0] == '\0' || name == NULL) {
        reply_failed(sock, "attach-failed", id, "attach", EINVAL, "attach needs id= and name=");
        close(sock);
        return;
    }
    c = running_container(p, name);
    s = free_session(p);
    if (c == NULL || s == NULL) {
        if (c == NULL)
            snprintf(err, sizeof err, "container %s is not running", name);
        else
            snprintf(err, sizeof err, "too many exec and attach sessions in this pod (%d)", MAX_SESSIONS);
        reply_failed(sock, "attach-failed", id, "attach", c == NULL ? ESRCH : ENOSPC, err);
        close(sock);
        return;
    }
    if (want_in != NULL && strcmp(want_in, "1") == 0) {
        int source = c->tty ? c->out.fd : c->stdin_fd;
        if (source < 0 || (in = fcntl(source, F_DUPFD_CLOEXEC, 3)) < 0) {
            snprintf(err, sizeof err, source < 0 ? "container %s has no stdin to attach to: it was started without stdin: true%s"
                                                 : "container %s: dup stdin: %s",
                     name, source < 0 ? (c->stdin_once ? " (or its stdinOnce session has ended)" : "") : strerror(errno));
            reply_failed(sock, "attach-failed", id, "attach", EINVAL, err);
            close(sock);
            return;
        }
    }

    s->kind = SESSION_ATTACH;
    snprintf(s->id, sizeof s->id, "%s", id);
    s->sock = sock;
    s->slot = (int)(c - p->containers);
    s->wrote_stdin = in >= 0;
    if (want_out != NULL && strcmp(want_out, "1") == 0)
        s->out_w = msg_fds_take(fds, next++);
    if (want_err != NULL && strcmp(want_err, "1") == 0 && !c->tty)
        s->err_w = msg_fds_take(fds, next++);
    for (int *fd = &s->out_w; fd <= &s->err_w; fd++) {
        if (*fd < 0)
            continue;
        fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
        fcntl(*fd, F_SETPIPE_SZ, ATTACH_PIPE_SIZE); /* best effort */
    }
    {
        struct msg_out m;
        msg_begin(&m, "attach-started");
        msg_add(&m, "id", s->id);
        msg_add(&m, "tty", c->tty ? "1" : "0");
        reply(sock, &m, in >= 0 ? &in : NULL, in >= 0 ? 1 : 0);
        if (in >= 0)
            close(in);
    }
    update_tee(p, s->slot);
    if (watch_socket(p, s) < 0)
        release(p, s);
}

void session_container_exited(struct pod *p, struct container *c)
{
    int slot = (int)(c - p->containers);
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &p->sessions[i];
        struct msg_out m;
        if (s->kind != SESSION_ATTACH || s->slot != slot)
            continue;
        msg_begin(&m, "attach-exited");
        msg_add(&m, "id", s->id);
        msg_addf(&m, "exitCode", "%d", c->exit_code);
        msg_addf(&m, "signal", "%d", c->signal);
        reply(s->sock, &m, NULL, 0);
        release(p, s); /* podd reads its pipes to EOF, then the socket */
    }
}

/* --- events --- */

static void session_closed(struct pod *p, struct session *s)
{
    if (s->kind == SESSION_EXEC) {
        close_socket(p, s);
        /* The command (if still running) and whatever it started in its session. */
        kill_exec_session(p, s);
        if (s->pid == 0)
            release(p, s); /* else when it is reaped */
        return;
    }
    if (s->wrote_stdin && p->containers[s->slot].stdin_once)
        close_container_stdin(p, &p->containers[s->slot]);
    release(p, s);
}

void pod_session_ready(struct pod *p, unsigned index, uint32_t events)
{
    struct session *s;
    char buf[256];
    ssize_t n;

    if (index >= MAX_SESSIONS)
        return;
    s = &p->sessions[index];
    if (s->kind == SESSION_FREE || s->sock < 0)
        return; /* a stale event */
    n = recv(s->sock, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n > 0) {
        struct msg m;
        char err[128];
        if (msg_decode(buf, (size_t)n, &m, err, sizeof err) == 0) {
            /* v5's "close stdin" for an attach session: with stdinOnce, the container's
             * stdin closes now, as it would at the session's end. */
            if (strcmp(m.fields[0].value, "close-stdin") == 0 && s->kind == SESSION_ATTACH && s->wrote_stdin &&
                p->containers[s->slot].stdin_once) {
                close_container_stdin(p, &p->containers[s->slot]);
                s->wrote_stdin = 0;
            }
            msg_free(&m);
        }
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & (EPOLLRDHUP | EPOLLHUP)))
        return;
    session_closed(p, s);
}

void session_shutdown(struct pod *p)
{
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &p->sessions[i];
        if (s->kind == SESSION_EXEC)
            kill_exec_session(p, s);
        close_socket(p, s);
        if (s->kind == SESSION_ATTACH || s->pid == 0)
            release(p, s);
    }
}
