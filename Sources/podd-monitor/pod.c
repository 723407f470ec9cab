/* pod.c - see pod.h. */
#define _GNU_SOURCE
#include "pod.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "devices.h"
#include "journal.h"
#include "procfs.h"
#include "protocol.h"
#include "session.h"

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void pod_send(struct pod *p, const struct msg_out *m)
{
    if (p->control < 0)
        return;
    /* MSG_NOSIGNAL: a podd that went away must not kill the monitor with SIGPIPE. The
     * socket has a send timeout, so a podd that stopped reading cannot stall the pod
     * either: it is dropped and will ask for op=status when it reconnects. */
    if (send(p->control, m->buf, m->len, MSG_NOSIGNAL) < 0) {
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->control, NULL);
        close(p->control);
        p->control = -1;
    }
}

void pod_send_error(struct pod *p, const char *request, const char *name, const char *message)
{
    struct msg_out m;
    msg_begin(&m, "error");
    if (request != NULL)
        msg_add(&m, "request", request);
    if (name != NULL)
        msg_add(&m, "name", name);
    msg_add(&m, "message", message);
    pod_send(p, &m);
}

static void send_failed(struct pod *p, const char *name, const char *stage, int err,
                        const char *message)
{
    struct msg_out m;
    msg_begin(&m, "failed");
    msg_add(&m, "name", name);
    msg_add(&m, "stage", stage);
    msg_addf(&m, "errno", "%d", err);
    msg_add(&m, "message", message);
    pod_send(p, &m);
}

static struct container *find(struct pod *p, const char *name)
{
    for (int i = 0; i < MAX_CONTAINERS; i++)
        if (p->containers[i].state != SLOT_FREE && strcmp(p->containers[i].name, name) == 0)
            return &p->containers[i];
    return NULL;
}

static void kill_container(struct pod *p, struct container *c, int sig);
static void container_exited(struct pod *p, struct container *c, int status);
static void discard_unclaimed(struct pod *p, struct container *c);

/* The container's cgroup, if the pod has one; "" otherwise. */
static void container_cgroup(const struct pod *p, const struct container *c, char *buf, size_t size)
{
    buf[0] = '\0';
    if (p->cgroup_dir != NULL && cgroup_container_dir(buf, size, p->cgroup_dir, c->name) < 0)
        buf[0] = '\0';
}

/* A slot as a new container takes it: zero but for its fds, none open. A free slot is only
 * ever read for its state, so the slots are made so when taken, not all at pod_init: each
 * record is over 2 KiB, and writing all 64 of them would make the whole table resident in
 * every monitor (about 35 KiB more private memory than a pod of a few containers needs). */
static void slot_clear(struct container *c)
{
    memset(c, 0, sizeof *c);
    log_file_init(&c->log);
    c->out.fd = c->err.fd = c->stdin_fd = -1;
}

static void free_slot(struct pod *p, struct container *c)
{
    char cg[PATH_MAX];
    /* A held container podd gives up on never runs: its process is killed and reaped. */
    if (c->state == CONTAINER_HELD)
        container_abandon(&c->launch);
    /* The group is empty once the container is gone; removing it keeps the pod's cgroup
     * tidy. EBUSY (a straggler still dying) just leaves it for podd to remove. */
    container_cgroup(p, c, cg, sizeof cg);
    if (cg[0] != '\0')
        rmdir(cg);
    journal_sink_free(c->journal);
    if (c->stdin_fd >= 0)
        close(c->stdin_fd);
    log_file_close(&c->log);
    slot_clear(c);
}

static void close_stream(struct pod *p, struct container *c, struct log_stream *s)
{
    if (s->fd < 0)
        return;
    /* Deregister explicitly: epoll watches the open file, not the number. */
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    log_stream_close(s, &c->log);
}

static void send_state(struct pod *p, const struct container *c, const char *op)
{
    struct msg_out m;
    msg_begin(&m, op);
    msg_add(&m, "name", c->name);
    /* "started" answers a claimed chained start too, which may have exited since. */
    if (c->state == CONTAINER_RUNNING || strcmp(op, "started") == 0) {
        if (strcmp(op, "state") == 0)
            msg_add(&m, "state", "running");
        msg_addf(&m, "pid", "%d", (int)c->hostpid);
        msg_addf(&m, "starttime", "%llu", c->starttime);
        msg_addf(&m, "startedAt", "%lld", c->started_at);
    } else {
        if (strcmp(op, "state") == 0)
            msg_add(&m, "state", "exited");
        msg_addf(&m, "pid", "%d", (int)c->hostpid);
        msg_addf(&m, "exitCode", "%d", c->exit_code);
        msg_addf(&m, "signal", "%d", c->signal);
        msg_addf(&m, "startedAt", "%lld", c->started_at);
        msg_addf(&m, "finishedAt", "%lld", c->finished_at);
    }
    pod_send(p, &m);
}

void pod_init(struct pod *p, const char *cgroup_dir, const char *shm_dir, int share_pid, int epfd)
{
    /* P is zeroed (static): the container slots are left untouched until taken (slot_clear). */
    p->cgroup_dir = cgroup_dir;
    p->shm_dir = shm_dir;
    p->share_pid = share_pid;
    p->userns_fd = -1;
    p->epfd = epfd;
    p->control = -1;
    sessions_init(p);
}

/* The outcome of slot SLOT's launch: "started" (the process has exec'd), or "failed" and the
 * slot freed. NEXT, the launch after it in the batch, gets its turn to exec as soon as this
 * one's outcome is known, before the bookkeeping below (stat, logs, epoll, the report). */
static void finish_launch(struct pod *p, int slot, struct container_launch *next)
{
    struct container *c = &p->containers[slot];
    struct start_result res;
    struct epoll_event ev;
    int finished = container_finish(&c->launch, &res);

    if (next != NULL)
        container_release(next);
    if (finished < 0) {
        if (c->unclaimed) {
            /* Said at podd's release (claim). */
            c->chain_error = res.error;
            c->state = CONTAINER_CHAIN_FAILED;
            return;
        }
        send_failed(p, c->name, res.error.stage, res.error.err, res.error.message);
        free_slot(p, c);
        return;
    }
    c->state = CONTAINER_RUNNING;
    c->pid = res.pid;
    c->hostpid = res.hostpid;
    c->started_at = now_ns();
    /* The process has exec'd but is not reaped before we return to the event loop, so
     * /proc/HOSTPID exists even if it already exited. */
    if (proc_starttime(res.hostpid, &c->starttime) < 0)
        c->starttime = 0;
    c->stdin_fd = res.stdin_fd;
    if (log_stream_open(&c->out, res.stdout_fd, "stdout") < 0) {
        close(res.stdout_fd);
        c->out.fd = -1;
    }
    /* A terminal has one output, the pty's master: no stderr stream. */
    if (res.stderr_fd >= 0 && log_stream_open(&c->err, res.stderr_fd, "stderr") < 0) {
        close(res.stderr_fd);
        c->err.fd = -1;
    }
    c->out.journal = c->err.journal = c->journal;
    c->out.priority = 6;
    c->err.priority = 3;
    for (unsigned s = 0; s < 2; s++) {
        struct log_stream *ls = s == 0 ? &c->out : &c->err;
        if (ls->fd < 0)
            continue;
        ev.events = EPOLLIN;
        ev.data.u64 = EV_STREAM_TAG(slot, s);
        if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, ls->fd, &ev) < 0)
            log_stream_close(ls, &c->log); /* output lost rather than a stuck writer */
    }
    if (!c->unclaimed)
        send_state(p, c, "started");
}

void pod_finish_launches(struct pod *p)
{
    /* In launch order: podd hears "started" in the order it sent the spawns. */
    for (int i = 0; i < p->launching_count; i++)
        finish_launch(p, p->launching[i],
                      i + 1 < p->launching_count ? &p->containers[p->launching[i + 1]].launch : NULL);
    p->launching_count = 0;
}

int pod_launch_open(const struct pod *p)
{
    return p->launching_count > 0 && p->launching_count < POD_LAUNCHES_MAX;
}

/* Apart, so that the message's buffer is on the stack only the once it is sent. */
static __attribute__((noinline)) void send_device_program(struct pod *p, int fd)
{
    struct msg_out m;

    msg_begin(&m, "devices");
    msg_send_fds(p->control, &m, &fd, 1);
}

/* The device allowlist this monitor loaded, handed to podd once (op=devices with the
 * program's fd), which gives it to the monitors it starts next (with their first spawn). */
static void offer_device_program(struct pod *p)
{
    int fd = devices_program_to_offer();

    if (fd >= 0 && p->control >= 0)
        send_device_program(p, fd);
}

static void handle_spawn(struct pod *p, const struct msg *msg)
{
    struct spawn_spec spec;
    struct start_context ctx = {.cgroup_dir = p->cgroup_dir, .shm_dir = p->shm_dir,
                                .target_pidns_fd = -1, .devices_v1_dir = p->devices_v1_dir,
                                .userns_fd = p->userns_fd, .userns_root = p->userns_root};
    struct setup_error e;
    struct container *c, *old;
    char err[512];
    int slot = -1;

    if (spawn_spec_parse(msg, &spec, err, sizeof err) < 0) {
        const char *name = msg_get(msg, "name");
        if (name != NULL && name[0] != '\0')
            send_failed(p, name, "spawn", EINVAL, err);
        else
            pod_send_error(p, "spawn", NULL, err);
        return;
    }

    if (spec.pidns == PIDNS_DEFAULT)
        spec.pidns = p->share_pid ? PIDNS_POD : PIDNS_OWN;
    if (spec.hold && spec.pidns == PIDNS_CONTAINER) {
        send_failed(p, spec.name, "spawn", EINVAL, "hold=1 is for containers in the pod's or their own PID namespace");
        goto out;
    }
    if (spec.pidns == PIDNS_POD && !p->share_pid) {
        send_failed(p, spec.name, "pidns", EINVAL,
                    "pidns=pod needs the pod's PID namespace: the monitor was started without --share-pid");
        goto out;
    }

    /* A spawn of a name still being launched, or one joining another container's PID
     * namespace, needs the launches before it finished (running, or failed); so does one
     * past the most launched at once. */
    old = find(p, spec.name);
    if ((old != NULL && old->state == CONTAINER_STARTING) || spec.pidns == PIDNS_CONTAINER ||
        p->launching_count >= POD_LAUNCHES_MAX) {
        pod_finish_launches(p);
        old = find(p, spec.name);
    }
    if (old != NULL && old->unclaimed) {
        /* podd did not take the chained start (what it was set up with changed): it goes,
         * as a held one would. */
        discard_unclaimed(p, old);
        old = NULL;
    }
    if (old != NULL && old->state == CONTAINER_RUNNING) {
        send_failed(p, spec.name, "spawn", EEXIST, "a container of this name is running");
        goto out;
    }
    /* Starting a name again (a restart) replaces its exited record: podd has seen the
     * exit it is acting on. A held one is given up: podd spawns it anew. */
    if (old != NULL)
        free_slot(p, old);
    for (int i = 0; i < MAX_CONTAINERS && slot < 0; i++)
        if (p->containers[i].state == SLOT_FREE)
            slot = i;
    if (slot < 0) {
        send_failed(p, spec.name, "spawn", ENOSPC,
                    "too many containers in this pod (64): forget exited ones first");
        goto out;
    }
    c = &p->containers[slot];
    slot_clear(c);

    if (spec.pidns == PIDNS_CONTAINER) {
        const struct container *target = find(p, spec.pidns_target);
        char path[64];
        if (target == NULL || target->state != CONTAINER_RUNNING) {
            snprintf(err, sizeof err, "target container %s is not running", spec.pidns_target);
            send_failed(p, spec.name, "setns(pid)", ESRCH, err);
            goto out;
        }
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)target->hostpid);
        ctx.target_pidns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ctx.target_pidns_fd < 0) {
            snprintf(err, sizeof err, "open %s (container %s): %s", path, spec.pidns_target,
                     strerror(errno));
            send_failed(p, spec.name, "setns(pid)", errno, err);
            goto out;
        }
    }

    /* The container's cgroup is made anew (one an earlier monitor left may kill every
     * process cloned into it: cgroup_make_fresh), and the device allowlist goes on it before
     * any process is in it (a privileged container has every device: no list). */
    if (p->cgroup_dir != NULL) {
        char dir[PATH_MAX];
        if (cgroup_container_dir(dir, sizeof dir, p->cgroup_dir, spec.name) < 0 || cgroup_make_fresh(dir) < 0) {
            snprintf(err, sizeof err, "create the cgroup %s/%s: %s", p->cgroup_dir, spec.name, strerror(errno));
            send_failed(p, spec.name, "cgroup", errno, err);
            goto out;
        }
        for (size_t i = 0; i < spec.cgroup_set_count; i++) {
            const struct cgroup_setting *set = &spec.cgroup_sets[i];
            if (cgroup_write(dir, set->file, set->value) < 0) {
                int e = errno;
                char stage[96];
                snprintf(stage, sizeof stage, "cgroup(%.64s)", set->file);
                snprintf(err, sizeof err, "write \"%.64s\" to %.200s/%.64s: %s", set->value, dir, set->file, strerror(e));
                send_failed(p, spec.name, stage, e, err);
                goto out;
            }
        }
        if (!spec.security.privileged && devices_attach_cgroup2(dir, &e) < 0) {
            send_failed(p, spec.name, e.stage, e.err, e.message);
            goto out;
        }
        offer_device_program(p);
    }

    log_file_init(&c->log);
    if (spec.log != NULL) {
        if (log_file_open(&c->log, spec.log, spec.log_max_size, spec.log_max_files) < 0) {
            int e = errno;
            snprintf(err, sizeof err, "open %s: %s", spec.log, strerror(e));
            send_failed(p, spec.name, "open(log)", e, err);
            goto out;
        }
    }

    if (container_launch(&spec, &ctx, &c->launch, &e) < 0) {
        send_failed(p, spec.name, e.stage, e.err, e.message);
        log_file_close(&c->log);
        goto out;
    }
    /* Launched: the process sets itself up while the monitor reads podd's next message (the
     * pod's other containers, sent together): pod_finish_launches reports the outcome. */
    c->state = CONTAINER_STARTING;
    snprintf(c->name, sizeof c->name, "%s", spec.name);
    c->tty = spec.tty;
    c->stdin_once = spec.stdin_once;
    c->journal = journal_sink_new(msg);
    if (spec.hold) {
        /* Set up ahead of its turn: it waits for op=release (handle_release), or for the
         * clean exit of the container it follows (release_chained). */
        c->state = CONTAINER_HELD;
        snprintf(c->after, sizeof c->after, "%s", spec.after != NULL ? spec.after : "");
        goto out;
    }
    /* The first of a batch may exec as soon as its root is made; the others wait for the
     * ones before them (pod_finish_launches, in order). */
    if (p->launching_count == 0)
        container_release(&c->launch);
    p->launching[p->launching_count++] = slot;

out:
    if (ctx.target_pidns_fd >= 0)
        close(ctx.target_pidns_fd);
    spawn_spec_free(&spec);
}

/* A held container goes on to exec, as if spawned now (its outcome is read with the
 * launches, in order). */
static void start_held(struct pod *p, struct container *c)
{
    if (p->launching_count >= POD_LAUNCHES_MAX)
        pod_finish_launches(p);
    c->state = CONTAINER_STARTING;
    if (p->launching_count == 0)
        container_release(&c->launch);
    p->launching[p->launching_count++] = (int)(c - p->containers);
}

/* DONE has just exited: the held containers that follow it (after=DONE) start now, when it
 * succeeded and nobody stopped it. Run before DONE's exit is logged and reported, so that
 * the next init container execs while podd is still hearing of the last one. */
static void release_chained(struct pod *p, const struct container *done)
{
    if (p->shutting_down || done->signalled || done->exit_code != 0 || done->signal != 0)
        return;
    for (int i = 0; i < MAX_CONTAINERS; i++) {
        struct container *h = &p->containers[i];
        if (h->state == CONTAINER_HELD && h->after[0] != '\0' && strcmp(h->after, done->name) == 0) {
            h->after[0] = '\0';
            h->unclaimed = 1;
            start_held(p, h);
        }
    }
}

/* podd's release of a start a chain made: answered as that release would have been
 * ("started" or "failed"), in order with the launches before it, then its "exited" if it
 * has ended, so that podd hears of every start before its exit. */
static void claim(struct pod *p, struct container *c)
{
    pod_finish_launches(p);
    c->unclaimed = 0;
    if (c->state == CONTAINER_CHAIN_FAILED) {
        send_failed(p, c->name, c->chain_error.stage, c->chain_error.err, c->chain_error.message);
        free_slot(p, c);
        return;
    }
    send_state(p, c, "started");
    if (c->state == CONTAINER_EXITED)
        send_state(p, c, "exited");
}

/* A chained start podd gave up before claiming it (forget, a new spawn of its name): it is
 * killed and reaped, and nothing of it is reported, as for a held container. */
static void discard_unclaimed(struct pod *p, struct container *c)
{
    if (c->state == CONTAINER_STARTING)
        pod_finish_launches(p);
    if (c->state == CONTAINER_RUNNING) {
        int status = 0;
        c->signalled = 1; /* killed: whatever follows it waits for podd */
        kill_container(p, c, SIGKILL);
        while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
            ;
        container_exited(p, c, status);
    }
    free_slot(p, c);
}

/* op=release: a held container starts; one a chain started is claimed. Anything else of
 * that name is a start that cannot be made. */
static void handle_release(struct pod *p, const struct msg *msg)
{
    const char *name = msg_get(msg, "name");
    struct container *c;

    if (name == NULL) {
        pod_send_error(p, "release", NULL, "release needs name=");
        return;
    }
    c = find(p, name);
    if (c != NULL && c->unclaimed) {
        claim(p, c);
        return;
    }
    if (c == NULL || c->state != CONTAINER_HELD) {
        send_failed(p, name, "release", ESRCH, "no held container of this name (spawn it with hold=1 first)");
        return;
    }
    start_held(p, c);
}

static void kill_container(struct pod *p, struct container *c, int sig)
{
    char cg[PATH_MAX];
    container_cgroup(p, c, cg, sizeof cg);
    /* SIGKILL with a cgroup kills every process of the container at once, including ones
     * that left its process tree; otherwise signal the main process as a runtime does. */
    if (sig == SIGKILL && cg[0] != '\0' && cgroup_kill(cg) == 0)
        return;
    kill(c->pid, sig);
}

static void handle_signal(struct pod *p, const struct msg *msg)
{
    const char *name = msg_get(msg, "name"), *sigtext = msg_get(msg, "signal");
    struct container *c;
    char *end;
    long sig;

    if (name == NULL || sigtext == NULL) {
        pod_send_error(p, "signal", name, "signal needs name= and signal=");
        return;
    }
    sig = strtol(sigtext, &end, 10);
    if (*sigtext == '\0' || *end != '\0' || sig < 1 || sig > 64) {
        pod_send_error(p, "signal", name, "signal= must be a signal number 1-64");
        return;
    }
    c = find(p, name);
    if (c == NULL || c->state != CONTAINER_RUNNING) {
        pod_send_error(p, "signal", name, "no running container of this name");
        return;
    }
    /* podd is stopping it: its exit, even a clean one, starts nothing by itself. */
    c->signalled = 1;
    kill_container(p, c, (int)sig);
}

static void handle_status(struct pod *p)
{
    struct msg_out m;
    /* A held container has not started: podd (a new one, after a restart) spawns it again
     * when it decides to, which replaces it; meanwhile nothing releases it but podd. A
     * start a chain made is podd's now, as if it had released it; one that failed is
     * dropped, and started anew when podd decides to. */
    for (int i = 0; i < MAX_CONTAINERS; i++) {
        struct container *c = &p->containers[i];
        if (c->state == CONTAINER_HELD)
            c->after[0] = '\0';
        if (c->state == CONTAINER_CHAIN_FAILED)
            free_slot(p, c);
        if (c->state == SLOT_FREE)
            continue;
        c->unclaimed = 0;
        if (c->state != SLOT_FREE && c->state != CONTAINER_HELD)
            send_state(p, c, "state");
    }
    msg_begin(&m, "status-end");
    pod_send(p, &m);
}

static void handle_forget(struct pod *p, const struct msg *msg)
{
    const char *name = msg_get(msg, "name");
    struct container *c;

    if (name == NULL) {
        pod_send_error(p, "forget", NULL, "forget needs name=");
        return;
    }
    c = find(p, name);
    if (c == NULL)
        return; /* already forgotten: forgetting is idempotent */
    if (c->unclaimed) {
        discard_unclaimed(p, c);
        return;
    }
    if (c->state == CONTAINER_RUNNING) {
        pod_send_error(p, "forget", name, "container is running; only exited ones can be forgotten");
        return;
    }
    free_slot(p, c);
}

enum pod_verdict pod_handle_message(struct pod *p, char *buf, size_t len, struct msg_fds *fds)
{
    struct msg msg;
    char err[256];
    const char *op;

    if (msg_decode(buf, len, &msg, err, sizeof err) < 0) {
        pod_send_error(p, NULL, NULL, err);
        return POD_CONTINUE;
    }
    op = msg.fields[0].value;
    /* Only a spawn or a release may follow a launch unfinished: anything else sees every
     * container started or failed. */
    if (strcmp(op, "spawn") != 0 && strcmp(op, "release") != 0)
        pod_finish_launches(p);
    if (strcmp(op, "spawn") == 0) {
        /* devices=1: the device allowlist program an earlier monitor loaded (podd keeps it)
         * comes with this spawn, the first podd sends here. */
        if (msg_get(&msg, "devices") != NULL) {
            int fd = msg_fds_take(fds, 0);
            if (fd >= 0)
                devices_use_program(fd);
        }
        handle_spawn(p, &msg);
    } else if (strcmp(op, "release") == 0) {
        handle_release(p, &msg);
    } else if (strcmp(op, "signal") == 0) {
        handle_signal(p, &msg);
    } else if (strcmp(op, "status") == 0) {
        handle_status(p);
    } else if (strcmp(op, "forget") == 0) {
        handle_forget(p, &msg);
    } else if (strcmp(op, "exec") == 0) {
        session_handle_exec(p, &msg, fds);
    } else if (strcmp(op, "attach") == 0) {
        session_handle_attach(p, &msg, fds);
    } else if (strcmp(op, "shutdown") == 0) {
        msg_free(&msg);
        return POD_SHUTDOWN;
    } else {
        snprintf(err, sizeof err, "unknown op \"%.64s\"", op);
        pod_send_error(p, op, NULL, err);
    }
    msg_free(&msg);
    return POD_CONTINUE;
}

void pod_stream_ready(struct pod *p, unsigned slot, unsigned stream)
{
    struct container *c;
    struct log_stream *s;

    if (slot >= MAX_CONTAINERS || stream > 1)
        return;
    c = &p->containers[slot];
    s = stream == 0 ? &c->out : &c->err;
    /* The event may be stale (the stream was closed earlier in the same epoll batch). */
    if (c->state != CONTAINER_RUNNING || s->fd < 0)
        return;
    if (log_stream_read(s, &c->log) == LOG_READ_EOF)
        close_stream(p, c, s);
}

static void container_exited(struct pod *p, struct container *c, int status)
{
    char cg[PATH_MAX];

    c->finished_at = now_ns();
    if (WIFSIGNALED(status)) {
        c->signal = WTERMSIG(status);
        c->exit_code = 128 + c->signal;
    } else {
        c->signal = 0;
        c->exit_code = WEXITSTATUS(status);
    }
    release_chained(p, c);
    /* A container ends with its main process, as in Kubernetes: processes it left behind
     * in its cgroup (possible when it shares the pod's PID namespace) are killed. */
    container_cgroup(p, c, cg, sizeof cg);
    if (cg[0] != '\0')
        cgroup_kill(cg);
    /* The process is gone, so whatever it wrote is in the pipes now: log it all before
     * reporting the exit, so that podd may read the complete log on `exited`. */
    log_stream_drain(&c->out, &c->log);
    log_stream_drain(&c->err, &c->log);
    close_stream(p, c, &c->out);
    close_stream(p, c, &c->err);
    if (c->stdin_fd >= 0)
        close(c->stdin_fd);
    c->stdin_fd = -1;
    session_container_exited(p, c);
    log_file_close(&c->log);
    c->state = CONTAINER_EXITED;
    /* An unclaimed start's exit is said after its start, at podd's release (claim). */
    if (!c->unclaimed)
        send_state(p, c, "exited");
}

void pod_reap(struct pod *p)
{
    int status;
    pid_t pid;

    /* A launched child that died is found by its launch (a failure report, or EOF before
     * any): finish those first, so that an exit is never reported before its start. */
    pod_finish_launches(p);
    /* waitpid(-1): the monitor is the parent of its containers and, as the pod's PID 1 or
     * a subreaper, of every orphan they leave; those are reaped and otherwise ignored. */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (!WIFEXITED(status) && !WIFSIGNALED(status))
            continue;
        if (session_reaped(p, pid, status))
            continue;
        for (int i = 0; i < MAX_CONTAINERS; i++) {
            struct container *c = &p->containers[i];
            if (c->state == CONTAINER_RUNNING && c->pid == pid) {
                container_exited(p, c, status);
                /* A chain it released is launching: finish it before the next waitpid, which
                 * could otherwise reap that child's exit before its start is known. */
                pod_finish_launches(p);
                break;
            }
            /* A held container that died (its set-up failed: the report waits in its pipe
             * for the release): its pid is spent, never waited for or killed again. */
            if (c->state == CONTAINER_HELD && c->launch.child == pid) {
                c->launch.child = 0;
                break;
            }
        }
    }
}

void pod_shutdown(struct pod *p)
{
    struct timespec pause = {0, 5 * 1000 * 1000};
    int running;

    p->shutting_down = 1;
    pod_finish_launches(p);
    session_shutdown(p);
    for (int i = 0; i < MAX_CONTAINERS; i++)
        if (p->containers[i].state == CONTAINER_RUNNING)
            kill_container(p, &p->containers[i], SIGKILL);
    /* As PID 1 of the pod's namespace, kill(-1) reaches exactly the processes of that
     * namespace, orphans included. (Without --share-pid, -1 would mean the whole host.) */
    if (p->share_pid)
        kill(-1, SIGKILL);

    /* SIGKILL cannot be ignored, but a process in uninterruptible sleep dies late: wait up
     * to 10 s, then leave rather than hang. */
    for (int tries = 0; tries < 2000; tries++) {
        pod_reap(p);
        running = 0;
        for (int i = 0; i < MAX_CONTAINERS; i++)
            running += p->containers[i].state == CONTAINER_RUNNING;
        if (running == 0 && waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
            break;
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < MAX_CONTAINERS; i++)
        if (p->containers[i].state != SLOT_FREE)
            free_slot(p, &p->containers[i]);
    if (p->devices_v1_dir != NULL)
        devices_v1_remove(p->devices_v1_dir);
}
