/* container.c - see container.h.
 *
 * Process shapes, by PID namespace:
 *   own            clone(CLONE_NEWPID): the workload is PID 1 of a new namespace.
 *   pod            fork(): the workload lives in the monitor's (the pod's) namespace.
 *   container:NAME fork() an intermediate that joins NAME's namespace with setns; setns on
 *                  a PID namespace only applies to children, so it clones the workload with
 *                  CLONE_PARENT (the monitor stays its parent and reaper) and _exits.
 *
 * Child to monitor: a close-on-exec pipe carrying fixed-size reports (each one atomic
 * write): the workload's PID (from the intermediate), its host PID, and on failure the
 * stage + errno + message. A successful exec closes the pipe; EOF without a failure
 * report is the only way the monitor learns a container is "started".
 *
 * Between fork and exec the child is a copy of a single-threaded process, so ordinary
 * libc calls are safe; it never returns into the monitor's code and leaves with _exit.
 */
#define _GNU_SOURCE
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capabilities.h"
#include "cgroup.h"
#include "cgroupview.h"
#include "devices.h"
#include "procfs.h"
#include "rootfs.h"
#include "seccomp.h"
#include "terminal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum report_kind { REPORT_PID = 1, REPORT_HOSTPID, REPORT_FAILURE };

struct child_report {
    int kind;
    pid_t pid;
    struct setup_error error;
};

_Static_assert(sizeof(struct child_report) <= PIPE_BUF, "a report must be one atomic write");

static void send_report(int fd, const struct child_report *r)
{
    ssize_t n = write(fd, r, sizeof *r);
    (void)n; /* nobody to tell if the monitor is gone */
}

static _Noreturn void report_failure(int fd, const struct setup_error *e)
{
    struct child_report r = {.kind = REPORT_FAILURE, .pid = 0, .error = *e};
    send_report(fd, &r);
    _exit(127);
}

/* The descriptors a container process starts from: what becomes its stdin, stdout and
 * stderr (the monitor's pipes, or /dev/null), and for a terminal the socket it sends the
 * pty's master over. */
struct child_stdio {
    int in, out, err; /* -1: /dev/null */
    int pty_sock;     /* tty: socket to the monitor, else -1 */
};

int exec_command(char *const argv[], char *const envp[], struct setup_error *e)
{
    const char *file = argv[0], *path = DEFAULT_PATH;
    char candidate[PATH_MAX];
    int denied = 0;

    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        return setup_fail(e, errno, "exec", "exec %s: %s", file, strerror(errno));
    }
    for (char *const *env = envp; *env != NULL; env++)
        if (strncmp(*env, "PATH=", 5) == 0)
            path = *env + 5;
    for (const char *p = path; *p != '\0';) {
        size_t n = strcspn(p, ":");
        /* An empty element would mean the current directory; like Go's exec.LookPath
         * (which Kubernetes runtimes use), it is not searched. */
        if (n > 0 && n + 1 + strlen(file) < sizeof candidate) {
            snprintf(candidate, sizeof candidate, "%.*s/%s", (int)n, p, file);
            execve(candidate, argv, envp);
            if (errno == EACCES)
                denied = 1;
            else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
                return setup_fail(e, errno, "exec", "exec %s: %s", candidate, strerror(errno));
        }
        p += n;
        if (*p == ':')
            p++;
    }
    if (denied)
        return setup_fail(e, EACCES, "exec", "%s: found in $PATH but not executable", file);
    return setup_fail(e, ENOENT, "exec", "%s: executable file not found in $PATH (%s)", file,
                      path);
}

/* mkdir -p, inside the container's root (after pivot_root, so no path leaves it). */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Everything the workload process does from its first instruction to exec. Returns only
 * on failure, with E filled. */
/* SIG_DFL for one signal through the raw system call: glibc's signal() and sigaction()
 * refuse the two real-time signals it reserves (32 and 33), which a parent may have left
 * ignored and which exec would then pass on to the workload. */
static void default_disposition(int sig)
{
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        unsigned long mask;
    } act = {SIG_DFL, 0, NULL, 0};
    syscall(SYS_rt_sigaction, sig, &act, NULL, sizeof act.mask);
}

static int prepare_and_exec(const struct spawn_spec *spec, const struct start_context *ctx,
                            const struct child_stdio *io, struct setup_error *e)
{
    char stage[sizeof e->stage];
    sigset_t none;
    int devnull;
    struct credentials cred;

    /* If the monitor dies, nobody would reap this process, log its output or report its
     * exit: better it dies too than run unsupervised (and it would hold the pod's ports). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        return setup_fail(e, errno, "prctl(pdeathsig)", "%s", strerror(errno));

    /* Its own session and process group: a signal to the monitor's group (a Ctrl-C in a
     * terminal that started podd by hand) must not reach containers. */
    if (setsid() < 0)
        return setup_fail(e, errno, "setsid", "%s", strerror(errno));

    /* Into the container's cgroup before anything else, so all it does (and every process
     * it forks) is accounted to it, and cgroup.kill can reach all of it. */
    if (ctx->cgroup_dir != NULL) {
        char dir[PATH_MAX];
        snprintf(stage, sizeof stage, "cgroup(%s)", spec->name);
        if (cgroup_container_dir(dir, sizeof dir, ctx->cgroup_dir, spec->name) < 0 ||
            (mkdir(dir, 0755) < 0 && errno != EEXIST) || cgroup_enter(dir) < 0)
            return setup_fail(e, errno, stage, "join %s/%s: %s", ctx->cgroup_dir, spec->name,
                              strerror(errno));
    } else if (ctx->devices_v1_dir != NULL && !spec->security.privileged && devices_v1_enter(ctx->devices_v1_dir, e) < 0) {
        return -1;
    }
    /* And its v1 groups (its own where podd made them, else the pod's): the limits where v2
     * lacks the controller. The monitor is in none of them. */
    if (cgroup_v1_enter_container(spec->name) < 0)
        return setup_fail(e, errno, "cgroup(v1)", "join the v1 groups of %s: %s", spec->name, strerror(errno));
    if (oom_score_adj_apply(&spec->security, e) < 0)
        return -1;
    /* A cgroup namespace of its own, rooted at the v2 group it is now in (Kubernetes'
     * default on cgroup v2): /proc/self/cgroup reads "0::/", no host path shows, and the
     * /sys/fs/cgroup rootfs_enter mounts is its own group. */
    char groups[2048]; /* the container's v1 groups, for its /sys/fs/cgroup (rootfs_enter) */
    if (ctx->cgroup_dir != NULL)
        cgroup_view_note_groups(groups, sizeof groups);
    if (ctx->cgroup_dir != NULL && unshare(CLONE_NEWCGROUP) < 0)
        return setup_fail(e, errno, "unshare(cgroup)", "a cgroup namespace for %s: %s", spec->name, strerror(errno));

    /* stdin is /dev/null unless the container asked for stdin (a pipe the monitor holds
     * open for attach); stdout and stderr are the pipes the monitor reads into the CRI log.
     * With a terminal, all three become the pty once the container's /dev exists (below).
     * dup2 clears close-on-exec on 0-2 only. */
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || dup2(io->in >= 0 ? io->in : devnull, 0) < 0 ||
        dup2(io->out >= 0 ? io->out : devnull, 1) < 0 || dup2(io->err >= 0 ? io->err : devnull, 2) < 0)
        return setup_fail(e, errno, "stdio", "set up stdin/stdout/stderr: %s", strerror(errno));
    /* Every other descriptor (the monitor's sockets, other containers' pipes and logs)
     * must not leak into the container. They are all opened close-on-exec; this makes
     * sure of it even for one that was not. */
    syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);

    if (rootfs_enter(spec, ctx->shm_dir, ctx->cgroup_dir != NULL, ctx->userns_fd, ctx->userns_root, e) < 0)
        return -1;

    /* The terminal comes from the container's own devpts, mounted by rootfs_enter: the
     * master goes to the monitor (which logs what it reads and lends it to attach), the
     * terminal becomes stdio and the controlling terminal of this session. */
    if (io->pty_sock >= 0) {
        int master, slave;
        if (pty_open(-1, &master, &slave, e) < 0)
            return -1;
        if (fd_send(io->pty_sock, master) < 0) {
            int err = errno;
            close(master);
            close(slave);
            return setup_fail(e, err, "tty", "pass the pty to the monitor: %s", strerror(err));
        }
        close(master);
        if (pty_become_controlling(slave, e) < 0)
            return -1;
    }

    /* hostUsers: false: into the pod's user namespace once every mount is made (they needed
     * the host's root); the user and capabilities below are then the namespace's. */
    if (ctx->userns_fd >= 0 && setns(ctx->userns_fd, CLONE_NEWUSER) < 0)
        return setup_fail(e, errno, "setns(user)", "join the pod's user namespace: %s", strerror(errno));

    /* The working directory is created if the image lacks it, as runc does; as root, and
     * entered before the user changes, so that a directory the user may not search still
     * works as it does with runc. */
    snprintf(stage, sizeof stage, "chdir(%s)", spec->cwd);
    if (make_dirs(spec->cwd) < 0 && errno != ENOTDIR)
        return setup_fail(e, errno, stage, "create %s: %s", spec->cwd, strerror(errno));
    if (chdir(spec->cwd) < 0)
        return setup_fail(e, errno, stage, "chdir %s: %s", spec->cwd, strerror(errno));

    /* The monitor attached the device allowlist to the container's cgroup (devices.h). */
    cred = credentials_of(&spec->security, devices_filtered(ctx->cgroup_dir, ctx->devices_v1_dir));
    /* Without no_new_privs the filter goes on while the process still has CAP_SYS_ADMIN,
     * which installing one then needs (runc's order); with it, as late as possible, below. */
    if (!spec->security.no_new_privs && seccomp_apply(ctx->seccomp, e) < 0)
        return -1;
    if (credentials_apply(&cred, e) < 0)
        return -1;

    /* Leave the monitor's process state behind: files the workload creates get the usual
     * 022 umask; signals blocked or ignored for the monitor's signalfd are normal again. */
    umask(022);
    /* Every disposition back to default, whatever the monitor inherited from the process
     * that started podd (a CI runner may ignore real-time signals, for instance). */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            default_disposition(sig);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* Everything is ready (the slow part, its root, done beside the pod's other containers,
     * or ahead of its turn when held): it execs when the monitor gives it its turn, after
     * the containers launched before it (container_release) or at podd's release. EOF
     * without the byte: the monitor gave up on it. Only read (and exit) run here under a
     * filter applied above, as runc's exec fifo does. */
    if (ctx->gate_fd >= 0) {
        char turn;
        ssize_t n;
        while ((n = read(ctx->gate_fd, &turn, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            return setup_fail(e, ECANCELED, "start order", "the monitor did not let the container start");
    }

    if (spec->security.no_new_privs && seccomp_apply(ctx->seccomp, e) < 0)
        return -1;
    return exec_command(spec->argv, spec->envp, e);
}

static _Noreturn void run_workload(const struct spawn_spec *spec, const struct start_context *ctx,
                                   int report_fd, const struct child_stdio *io)
{
    struct child_report r = {.kind = REPORT_HOSTPID, .pid = proc_self_hostpid()};
    struct setup_error e;

    /* The monitor may be PID 1 of the pod's namespace, where fork returns pod PIDs: only
     * the child, through the host's /proc still mounted here, can tell podd's PID. */
    if (r.pid <= 0) {
        setup_fail(&e, errno, "readlink(/proc/self)", "%s", strerror(errno));
        report_failure(report_fd, &e);
    }
    send_report(report_fd, &r);
    memset(&e, 0, sizeof e);
    prepare_and_exec(spec, ctx, io, &e);
    report_failure(report_fd, &e);
}

static _Noreturn void run_intermediate(const struct spawn_spec *spec,
                                       const struct start_context *ctx, int report_fd,
                                       const struct child_stdio *io)
{
    struct child_report r = {.kind = REPORT_PID};
    struct setup_error e;
    pid_t pid;

    if (setns(ctx->target_pidns_fd, CLONE_NEWPID) < 0) {
        setup_fail(&e, errno, "setns(pid)", "join the PID namespace of %s: %s",
                   spec->pidns_target, strerror(errno));
        report_failure(report_fd, &e);
    }
    /* CLONE_PARENT: the workload becomes the monitor's child, so the monitor reaps it and
     * gets its exit status like any other container's. */
    pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        setup_fail(&e, errno, "clone", "clone into the PID namespace of %s: %s",
                   spec->pidns_target, strerror(errno));
        report_failure(report_fd, &e);
    }
    if (pid == 0)
        run_workload(spec, ctx, report_fd, io);
    /* clone returned the PID as seen from our own (the monitor's) PID namespace, which is
     * what the monitor's waitpid will report. */
    r.pid = pid;
    send_report(report_fd, &r);
    _exit(0);
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    p[0] = p[1] = -1;
}

/* Forks the container's first process (in a new PID namespace for pidns own) directly into
 * its cgroup, CGDIR/NAME, with clone3(CLONE_INTO_CGROUP): moving a running process between
 * cgroups waits for an RCU grace period (about 20 ms here), a clone into one does not. The
 * child's cgroup_enter then finds itself there already. Falls back to clone/fork (and the
 * child's cgroup_enter) where clone3 or the flag is missing, or for container:NAME, whose
 * intermediate moves itself. */
static pid_t clone_into_cgroup(const struct spawn_spec *spec, const struct start_context *ctx)
{
    unsigned long long flags = spec->pidns == PIDNS_OWN ? CLONE_NEWPID : 0;

    if (ctx->cgroup_dir != NULL && spec->pidns != PIDNS_CONTAINER) {
        char dir[PATH_MAX];
        int cgfd = -1;
        /* The spawn made the group anew and put the device allowlist on it (pod.c): it is
         * only made here when missing. */
        if (cgroup_container_dir(dir, sizeof dir, ctx->cgroup_dir, spec->name) == 0 &&
            (mkdir(dir, 0755) == 0 || errno == EEXIST))
            cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd >= 0) {
            struct clone_args args;
            pid_t pid;
            memset(&args, 0, sizeof args);
            args.flags = flags | CLONE_INTO_CGROUP;
            args.exit_signal = SIGCHLD;
            args.cgroup = (unsigned long long)cgfd;
            pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
            if (pid == 0)
                return 0;
            close(cgfd);
            if (pid > 0)
                return pid;
            /* ENOSYS, E2BIG, EINVAL: an older kernel; fall through to the plain way. */
        }
    }
    if (flags != 0)
        return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
    return fork();
}

int container_launch(const struct spawn_spec *spec, const struct start_context *given,
                     struct container_launch *l, struct setup_error *e)
{
    int report[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
    int pty[2] = {-1, -1}, gate[2] = {-1, -1};
    struct child_stdio io;
    struct start_context context = *given;
    const struct start_context *ctx = &context;
    pid_t child;

    memset(l, 0, sizeof *l);
    l->report = l->gate = l->out = l->err = l->in = l->pty = -1;
    l->pidns_container = spec->pidns == PIDNS_CONTAINER;
    l->tty = spec->tty;
    /* The filter is compiled here, in the monitor (once per capability set for
     * RuntimeDefault): the child only installs it. */
    if (seccomp_prepare(&spec->security.seccomp,
                        credentials_of(&spec->security, devices_filtered(ctx->cgroup_dir, ctx->devices_v1_dir)).caps,
                        &l->filter, e) < 0)
        return -1;
    context.seccomp = &l->filter;
    if (pipe2(report, O_CLOEXEC) < 0 || pipe2(gate, O_CLOEXEC) < 0) {
        setup_fail(e, errno, "pipe", "%s", strerror(errno));
        goto fail;
    }
    context.gate_fd = gate[0];
    /* A terminal replaces all three pipes: its master is both the output the monitor logs
     * and the input attach writes to. */
    if (spec->tty) {
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pty) < 0) {
            setup_fail(e, errno, "socketpair", "%s", strerror(errno));
            goto fail;
        }
    } else if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
               (spec->stdin_open && pipe2(in, O_CLOEXEC) < 0)) {
        setup_fail(e, errno, "pipe", "%s", strerror(errno));
        goto fail;
    }
    io = (struct child_stdio){.in = in[0], .out = out[1], .err = err[1], .pty_sock = pty[1]};

    if (ctx->cgroup_dir != NULL)
        cgroup_view_prepare();  /* once per monitor, inherited by the child */
    child = clone_into_cgroup(spec, ctx);
    if (child < 0) {
        setup_fail(e, errno, "clone", "%s", strerror(errno));
        goto fail;
    }
    if (child == 0) {
        close(report[0]);
        close(gate[1]);
        if (out[0] >= 0)
            close(out[0]);
        if (err[0] >= 0)
            close(err[0]);
        if (in[1] >= 0)
            close(in[1]);
        if (pty[0] >= 0)
            close(pty[0]);
        if (spec->pidns == PIDNS_CONTAINER)
            run_intermediate(spec, ctx, report[1], &io);
        run_workload(spec, ctx, report[1], &io);
    }

    /* Only the child may hold the write ends now, so EOF on the report pipe means exec
     * (or death), and EOF on the output pipes means the container closed them. */
    close(report[1]);
    close(gate[0]);
    if (out[1] >= 0)
        close(out[1]);
    if (err[1] >= 0)
        close(err[1]);
    if (in[0] >= 0)
        close(in[0]);
    if (pty[1] >= 0)
        close(pty[1]);
    l->child = child;
    l->report = report[0];
    l->gate = gate[1];
    l->out = out[0];
    l->err = err[0];
    l->in = in[1];
    l->pty = pty[0];
    return 0;

fail:
    seccomp_program_release(&l->filter);
    close_pair(report);
    close_pair(gate);
    close_pair(out);
    close_pair(err);
    close_pair(in);
    close_pair(pty);
    return -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void container_release(struct container_launch *l)
{
    if (l->gate < 0)
        return;
    /* A child that failed before its gate is gone: EPIPE (SIGPIPE is ignored), nothing to do. */
    if (write(l->gate, "1", 1) < 0) {
    }
    close_fd(&l->gate);
}

/* Everything a launch holds of the monitor's: its filter and its ends of the pipes. */
static void launch_close(struct container_launch *l)
{
    seccomp_program_release(&l->filter);
    close_fd(&l->report);
    close_fd(&l->gate);
    close_fd(&l->out);
    close_fd(&l->err);
    close_fd(&l->in);
    close_fd(&l->pty);
}

void container_abandon(struct container_launch *l)
{
    /* Reaped by its pid, not left to the event loop's waitpid(-1), which would look for it
     * among the running containers. 0: pod_reap took it already (it died on its own). */
    if (l->child > 0) {
        kill(l->child, SIGKILL);
        while (waitpid(l->child, NULL, 0) < 0 && errno == EINTR)
            ;
        l->child = 0;
    }
    launch_close(l);
}

int container_finish(struct container_launch *l, struct start_result *res)
{
    pid_t workload = l->pidns_container ? 0 : l->child;
    int failed = 0;

    container_release(l);

    memset(res, 0, sizeof *res);
    res->stdout_fd = res->stderr_fd = res->stdin_fd = -1;
    for (;;) {
        struct child_report r;
        ssize_t n = read(l->report, &r, sizeof r);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (n != (ssize_t)sizeof r)
            continue; /* cannot happen: reports are written whole */
        if (r.kind == REPORT_PID) {
            workload = r.pid;
        } else if (r.kind == REPORT_HOSTPID) {
            res->hostpid = r.pid;
        } else if (r.kind == REPORT_FAILURE) {
            res->error = r.error;
            failed = 1;
        }
    }
    close_fd(&l->report);

    /* The intermediate has done its part; reap it here so the event loop never sees it. */
    if (l->pidns_container)
        waitpid(l->child, NULL, 0);
    if (!failed && (res->hostpid <= 0 || workload <= 0)) {
        setup_fail(&res->error, ECHILD, "spawn", "the container process ended before it reported");
        failed = 1;
    }
    if (!failed && l->tty) {
        /* Sent before exec, so it is queued by now. */
        l->out = fd_recv(l->pty);
        if (l->out < 0) {
            setup_fail(&res->error, EPROTO, "tty", "the container did not pass its terminal");
            failed = 1;
            kill(workload, SIGKILL);
        }
    }
    if (failed) {
        /* It _exits right after its report: reap it now, so it is never taken for a
         * container that ran and exited. */
        if (workload > 0)
            waitpid(workload, NULL, 0);
        goto fail;
    }

    close_fd(&l->pty);
    fcntl(l->out, F_SETFL, O_NONBLOCK);
    if (l->err >= 0)
        fcntl(l->err, F_SETFL, O_NONBLOCK);
    res->pid = workload;
    res->stdout_fd = l->out;
    res->stderr_fd = l->err;
    res->stdin_fd = l->tty ? -1 : l->in;
    if (l->tty)
        close_fd(&l->in);
    seccomp_program_release(&l->filter);
    return 0;

fail:
    launch_close(l);
    return -1;
}
