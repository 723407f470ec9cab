/* pod.h - the monitor's record of the pod's containers and what podd may ask of them.
 *
 * Single-threaded: the event loop (main.c) calls in here when a message arrives, when a
 * container's output is readable, and when SIGCHLD says a child changed state.
 */
#ifndef PODD_MONITOR_POD_H
#define PODD_MONITOR_POD_H

#include <stdint.h>
#include <sys/types.h>

#include "container.h"
#include "logwriter.h"
#include "spawn_spec.h"

/* A pod has a handful of containers (init, app, ephemeral); 64 leaves room for many
 * ephemeral debug containers and keeps the table a fixed, small array. */
#define MAX_CONTAINERS 64

/* epoll_event.data.u64 for the monitor's descriptors: the kind in the low byte, and for a
 * container stream its slot and stream index above it. */
enum event_kind { EV_LISTEN = 1, EV_CONTROL, EV_SIGNAL, EV_STREAM, EV_SESSION };
#define EV_STREAM_TAG(slot, stream) \
    ((uint64_t)EV_STREAM | ((uint64_t)(slot) << 8) | ((uint64_t)(stream) << 16))
#define EV_SESSION_TAG(index) ((uint64_t)EV_SESSION | ((uint64_t)(index) << 8))

/* Exec and attach sessions at once: each holds a socket and a few descriptors. */
#define MAX_SESSIONS 64

/* CONTAINER_STARTING: launched, its outcome not read yet (pod_finish_launches).
 * CONTAINER_HELD: spawned with hold=1: its root is made and it waits, outside the launches,
 * for podd's op=release (then STARTING) or for podd to give it up (forget, a new spawn of its
 * name, shutdown).
 * CONTAINER_CHAIN_FAILED: a chained start (below) whose set-up or exec failed; the failure
 * waits for podd's op=release. */
enum container_state { SLOT_FREE = 0, CONTAINER_STARTING, CONTAINER_RUNNING, CONTAINER_EXITED, CONTAINER_HELD,
                       CONTAINER_CHAIN_FAILED };

/* Containers launched at once before their outcomes are read: a pod's spawns arrive
 * together (podd sends every start of one decision at once). */
#define POD_LAUNCHES_MAX 8

struct container {
    enum container_state state;
    char name[CONTAINER_NAME_MAX + 1];
    pid_t pid;                    /* in the monitor's PID namespace */
    pid_t hostpid;                /* in podd's */
    unsigned long long starttime; /* /proc/HOSTPID/stat field 22 */
    long long started_at, finished_at; /* ns since the epoch */
    int exit_code;                /* exit status, or 128+N when killed by signal N */
    int signal;                   /* N, or 0 */
    struct log_file log;          /* CRI log (fd -1 when closed or not asked for) */
    struct log_stream out, err;   /* stdout and stderr pipes while running (tty: out is the
                                     pty's master, err unused) */
    struct journal_sink *journal; /* where output is forwarded too, or NULL */
    int stdin_fd;                 /* stdin=1: the write end of its stdin pipe, else -1 */
    int tty, stdin_once;          /* as spawned */
    struct container_launch launch; /* while CONTAINER_STARTING or CONTAINER_HELD */
    /* Chained starts. A held container spawned with after=NAME is released by the monitor
     * itself, without podd's round trip, when NAME's main process exits 0 and podd never
     * signalled it (podd sends that when the next init container is what follows; a signal
     * means podd is stopping NAME, and then decides itself). Until podd's op=release claims
     * such a start, it is reported to no one: the release is answered with its "started"
     * (or "failed"), followed by its "exited" if it has ended; a forget, a new spawn of its
     * name or a shutdown kill it silently, as they would a held one. */
    char after[CONTAINER_NAME_MAX + 1]; /* HELD: whose clean exit releases it; "" none */
    int unclaimed;                      /* started by a chain, not yet claimed by a release */
    int signalled;                      /* podd signalled this run: it releases no chain */
    struct setup_error chain_error;     /* CONTAINER_CHAIN_FAILED: what failed */
};

enum session_kind { SESSION_FREE = 0, SESSION_EXEC, SESSION_ATTACH };

/* An exec or attach session: podd's end is a socket of its own (passed with the request),
 * on which the monitor answers; podd closing it ends the session (an exec's processes are
 * killed). */
struct session {
    enum session_kind kind;
    char id[32];   /* podd's id for it */
    int sock;      /* -1 once podd has closed it */
    int slot;      /* the container (index in containers) */
    /* exec */
    pid_t pid, hostpid; /* the command's process, session leader; 0 once reaped */
    int exited;         /* exec-exited was sent */
    /* attach: where the container's output is copied (podd's pipes), -1 if not wanted */
    int out_w, err_w;
    int wrote_stdin;    /* was given the container's stdin (for stdinOnce) */
};

struct pod {
    const char *cgroup_dir; /* NULL without --cgroup */
    const char *devices_v1_dir; /* without --cgroup: the pod's v1 devices group, or NULL */
    const char *shm_dir;
    int share_pid;
    int userns_fd; /* hostUsers: false: the pod's user namespace, else -1 */
    unsigned long userns_root; /* the host ID its root maps to */
    int epfd;
    int control; /* the current podd connection, -1 when none */
    struct container containers[MAX_CONTAINERS];
    struct session sessions[MAX_SESSIONS];
    int launching[POD_LAUNCHES_MAX]; /* slots CONTAINER_STARTING, in launch order */
    int launching_count;
    int shutting_down; /* op=shutdown: no chain is released any more */
};

enum pod_verdict { POD_CONTINUE, POD_SHUTDOWN };

/* An empty pod: no containers, no connection yet. P must be zeroed (the monitor's is static). */
void pod_init(struct pod *p, const char *cgroup_dir, const char *shm_dir, int share_pid, int epfd);

/* Act on one message from podd (BUF: LEN bytes, BUF[LEN] writable), which came with FDS:
 * the handler takes those it keeps, the caller closes the rest. */
struct msg_fds;
enum pod_verdict pod_handle_message(struct pod *p, char *buf, size_t len, struct msg_fds *fds);

/* podd wrote to, or closed, the socket of session INDEX. */
void pod_session_ready(struct pod *p, unsigned index, uint32_t events);

/* Send a message to podd if it is connected; a failed send drops the connection. */
struct msg_out;
void pod_send(struct pod *p, const struct msg_out *m);

/* op=error for a message the monitor could not act on. */
void pod_send_error(struct pod *p, const char *request, const char *name, const char *message);

/* Read what a container wrote on stream STREAM (0 stdout, 1 stderr) of slot SLOT. */
void pod_stream_ready(struct pod *p, unsigned slot, unsigned stream);

/* Read the outcome of every container launched and not finished: "started" or "failed",
 * in launch order. Called before any event other than the next spawn. */
void pod_finish_launches(struct pod *p);

/* Whether a launch is unfinished and another may join it. */
int pod_launch_open(const struct pod *p);

/* Reap every child that has ended; report containers' exits. */
void pod_reap(struct pod *p);

/* Kill every container and wait for them (reporting their exits), for op=shutdown. */
void pod_shutdown(struct pod *p);

#endif
