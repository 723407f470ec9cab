/* exec.c - see exec.h.
 *
 * Process shape: the monitor points its pid_for_children at the container's PID namespace
 * (setns(CLONE_NEWPID) only affects children), forks the session's process straight into
 * the container's cgroup (clone3 CLONE_INTO_CGROUP: no migration, which would cost an RCU
 * grace period), and points pid_for_children back at its own namespace. No intermediate
 * process: the command is the monitor's child, which reaps it like a container.
 *
 * The child joins the container's mount namespace and root (setns(CLONE_NEWNS) then chroot
 * to /proc/PID/root, opened beforehand), drops to the container's capabilities, and execs.
 * As in container.c, it is a copy of the single-threaded monitor, so ordinary libc calls are
 * safe in it; it never returns into the monitor's code and leaves with _exit. Its reports
 * travel on a close-on-exec pipe: EOF without a failure report means the exec succeeded.
 */
#define _GNU_SOURCE
#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capabilities.h"
#include "cgroup.h"
#include "container.h"
#include "devices.h"
#include "procfs.h"
#include "seccomp.h"
#include "terminal.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

int exec_spec_parse(const struct msg *m, struct exec_spec *spec, char *err, size_t errlen)
{
    size_t nargs = 0, nenv = 0;

    memset(spec, 0, sizeof *spec);
    spec->cwd = "/";
    for (size_t i = 1; i < m->count; i++) {
        nargs += strcmp(m->fields[i].key, "arg") == 0;
        nenv += strcmp(m->fields[i].key, "env") == 0;
    }
    spec->argv = calloc(nargs + 1, sizeof *spec->argv);
    spec->envp = calloc(nenv + 1, sizeof *spec->envp);
    if (spec->argv == NULL || spec->envp == NULL) {
        exec_spec_free(spec);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    nargs = nenv = 0;
    for (size_t i = 1; i < m->count; i++) {
        const char *k = m->fields[i].key, *v = m->fields[i].value;
        if (strcmp(k, "id") == 0) {
            spec->id = v;
        } else if (strcmp(k, "name") == 0) {
            spec->container = v;
        } else if (strcmp(k, "tty") == 0) {
            spec->tty = strcmp(v, "1") == 0;
        } else if (strcmp(k, "arg") == 0) {
            spec->argv[nargs++] = (char *)v;
        } else if (strcmp(k, "env") == 0) {
            if (strchr(v, '=') == NULL) {
                exec_spec_free(spec);
                snprintf(err, errlen, "env is not KEY=VALUE: %.200s", v);
                return -1;
            }
            spec->envp[nenv++] = (char *)v;
        } else if (strcmp(k, "cwd") == 0) {
            spec->cwd = v;
        } else {
            int known = security_spec_key(&spec->security, k, v, err, errlen);
            if (known <= 0) {
                if (known == 0)
                    snprintf(err, errlen, "unknown key %.64s", k);
                exec_spec_free(spec);
                return -1;
            }
        }
    }
    if (spec->id == NULL || spec->id[0] == '\0' || spec->container == NULL) {
        exec_spec_free(spec);
        snprintf(err, errlen, "exec needs id= and name=");
        return -1;
    }
    if (nargs == 0 || spec->argv[0][0] == '\0') {
        exec_spec_free(spec);
        snprintf(err, errlen, "no arg: the command is required");
        return -1;
    }
    if (spec->cwd[0] != '/') {
        snprintf(err, errlen, "cwd must be absolute: %.200s", spec->cwd);
        exec_spec_free(spec);
        return -1;
    }
    return 0;
}

void exec_spec_free(struct exec_spec *spec)
{
    free(spec->argv);
    free(spec->envp);
    spec->argv = spec->envp = NULL;
    security_spec_free(&spec->security);
}

enum report_kind { REPORT_HOSTPID = 1, REPORT_FAILURE };

struct exec_report {
    int kind;
    pid_t pid;
    struct setup_error error;
};

_Static_assert(sizeof(struct exec_report) <= PIPE_BUF, "a report must be one atomic write");

/* What the child needs, all opened by the monitor before the fork. */
struct exec_child {
    const struct exec_spec *spec;
    int mntns, root;    /* the container's mount namespace and root directory */
    int cgroupns;       /* and its cgroup namespace (-1: it has none of its own) */
    int slave;          /* tty: the terminal, else -1 */
    const int *stdio;   /* non-tty: stdin, stdout, stderr (-1: /dev/null) */
    const char *enter_cgroup; /* the cgroup to join by hand (clone3 could not), or NULL */
    const char *devices_v1_dir; /* the v1 devices group to join, or NULL */
    int covered;        /* a device allowlist applies (the container's cgroup, or v1's) */
    int userns_fd;      /* the pod's user namespace, or -1 */
    const struct seccomp_program *seccomp; /* compiled by the monitor before the fork */
    int report;
};

static _Noreturn void child_failed(int report, const struct setup_error *e)
{
    struct exec_report r = {.kind = REPORT_FAILURE, .error = *e};
    ssize_t n = write(report, &r, sizeof r);
    (void)n; /* nobody to tell if the monitor is gone */
    _exit(127);
}

static int child_prepare(const struct exec_child *c, struct setup_error *e)
{
    char stage[sizeof e->stage];
    sigset_t none;
    struct credentials cred;

    /* Dies with the monitor, like a container: nobody else would reap it or report it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        return setup_fail(e, errno, "prctl(pdeathsig)", "%s", strerror(errno));
    /* A session of its own: its process group is what podd's kill reaches, its session id
     * finds the jobs a shell starts, and a terminal can become its controlling tty. */
    if (setsid() < 0)
        return setup_fail(e, errno, "setsid", "%s", strerror(errno));
    if (c->enter_cgroup != NULL && cgroup_enter(c->enter_cgroup) < 0)
        return setup_fail(e, errno, "cgroup", "join %s: %s", c->enter_cgroup, strerror(errno));
    /* And the container's v1 groups (memory, cpu, pids where v2 lacks them), as its own
     * processes: a command exec'd in a container is bound by its limits (or the pod's where
     * it has none of its own), as on Kubernetes. */
    if (cgroup_v1_enter_container(c->spec->container) < 0)
        return setup_fail(e, errno, "cgroup", "join the v1 groups of %s: %s", c->spec->container, strerror(errno));
    if (oom_score_adj_apply(&c->spec->security, e) < 0)
        return -1;
    if (c->devices_v1_dir != NULL && !c->spec->security.privileged && devices_v1_enter(c->devices_v1_dir, e) < 0)
        return -1;

    if (c->slave >= 0) {
        if (pty_become_controlling(c->slave, e) < 0)
            return -1;
    } else {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; i < 3; i++)
            if (dup2(c->stdio[i] >= 0 ? c->stdio[i] : devnull, i) < 0)
                return setup_fail(e, errno, "stdio", "set up stdin/stdout/stderr: %s", strerror(errno));
    }
    /* Nothing of the monitor's (sockets, other sessions' pipes, logs) reaches the command. */
    syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);

    /* The container's mounts, then its root: setns puts the process at the namespace's root
     * mount, which is the container's only as long as nothing was mounted over it; the
     * chroot to the root its main process sees makes sure. */
    if (setns(c->mntns, CLONE_NEWNS) < 0)
        return setup_fail(e, errno, "setns(mnt)", "join the mount namespace of %s: %s", c->spec->container,
                          strerror(errno));
    if (fchdir(c->root) < 0 || chroot(".") < 0)
        return setup_fail(e, errno, "chroot", "enter the root of %s: %s", c->spec->container, strerror(errno));
    /* Its cgroup view too (after the cgroup join: the namespace does not move anyone). */
    if (c->cgroupns >= 0 && setns(c->cgroupns, CLONE_NEWCGROUP) < 0)
        return setup_fail(e, errno, "setns(cgroup)", "join the cgroup namespace of %s: %s", c->spec->container,
                          strerror(errno));
    snprintf(stage, sizeof stage, "chdir(%s)", c->spec->cwd);
    if (chdir(c->spec->cwd) < 0)
        return setup_fail(e, errno, stage, "chdir %s: %s", c->spec->cwd, strerror(errno));
    if (c->userns_fd >= 0 && setns(c->userns_fd, CLONE_NEWUSER) < 0)
        return setup_fail(e, errno, "setns(user)", "join the pod's user namespace: %s", strerror(errno));
    /* As a container's first process does (container.c): its user, capabilities and
     * seccomp filter (before the user changes unless no_new_privs puts it last). */
    cred = credentials_of(&c->spec->security, c->covered);
    if (!cred.no_new_privs && seccomp_apply(c->seccomp, e) < 0)
        return -1;
    if (credentials_apply(&cred, e) < 0)
        return -1;

    /* Leave the monitor's process state behind, as a container does. */
    umask(022);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (cred.no_new_privs && seccomp_apply(c->seccomp, e) < 0)
        return -1;
    return exec_command(c->spec->argv, c->spec->envp, e);
}

static _Noreturn void run_child(const struct exec_child *c)
{
    struct exec_report r = {.kind = REPORT_HOSTPID, .pid = proc_self_hostpid()};
    struct setup_error e;
    ssize_t n;

    /* Read while /proc is still the host's (before joining the container's mounts). */
    if (r.pid <= 0) {
        setup_fail(&e, errno, "readlink(/proc/self)", "%s", strerror(errno));
        child_failed(c->report, &e);
    }
    n = write(c->report, &r, sizeof r);
    (void)n;
    memset(&e, 0, sizeof e);
    child_prepare(c, &e);
    child_failed(c->report, &e);
}

/* The monitor's own PID namespace, to point pid_for_children back at after a fork. */
static int own_pidns(void)
{
    static int fd = -1;
    if (fd < 0)
        fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    return fd;
}

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_proc(pid_t pid, const char *what, int flags, struct setup_error *e)
{
    char path[64];
    int fd;
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        setup_fail(e, errno, "open(/proc)", "open %s of the container's process: %s", path, strerror(errno));
    return fd;
}

/* fork, straight into CGROUP when there is one (clone3). *INTO says whether that worked. */
static pid_t fork_into(int cgroup, int *into)
{
    *into = 0;
    if (cgroup >= 0) {
        struct clone_args args;
        pid_t pid;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = (unsigned long long)cgroup;
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) {
            *into = 1;
            return pid;
        }
        /* ENOSYS, E2BIG (an old kernel), or a cgroup clone3 refuses: join by hand. */
    }
    return fork();
}

int exec_start(const struct exec_spec *spec, const struct exec_target *target, const int stdio[3],
               struct exec_result *res)
{
    int pidns = -1, mntns = -1, cgroupns = -1, root = -1, cgroup = -1, report[2] = {-1, -1}, slave = -1;
    int into = 0, switched = 0, failed = 0;
    struct exec_child child;
    struct seccomp_program filter = {0};
    pid_t pid;

    memset(res, 0, sizeof *res);
    res->master = -1;
    /* Its container's filter, compiled here (or found compiled): the child only installs it. */
    if (seccomp_prepare(&spec->security.seccomp,
                        credentials_of(&spec->security, devices_filtered(target->cgroup_dir, target->devices_v1_dir)).caps,
                        &filter, &res->error) < 0)
        goto fail;
    if ((pidns = open_proc(target->hostpid, "ns/pid", O_RDONLY, &res->error)) < 0 ||
        (mntns = open_proc(target->hostpid, "ns/mnt", O_RDONLY, &res->error)) < 0 ||
        (root = open_proc(target->hostpid, "root", O_PATH | O_DIRECTORY, &res->error)) < 0)
        goto fail;
    if (target->cgroup_dir != NULL) {
        cgroup = open(target->cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* A container with a v2 group has a cgroup namespace of its own (container.c). */
        if ((cgroupns = open_proc(target->hostpid, "ns/cgroup", O_RDONLY, &res->error)) < 0)
            goto fail;
    }
    if (spec->tty && pty_open(root, &res->master, &slave, &res->error) < 0)
        goto fail;
    if (pipe2(report, O_CLOEXEC) < 0) {
        setup_fail(&res->error, errno, "pipe", "%s", strerror(errno));
        goto fail;
    }

    /* Into the container's PID namespace (for the next fork only). Skipped when it is the
     * monitor's own (the pod's shared namespace). */
    if (own_pidns() < 0 || !same_file(pidns, own_pidns())) {
        if (setns(pidns, CLONE_NEWPID) < 0) {
            setup_fail(&res->error, errno, "setns(pid)", "join the PID namespace of %s: %s", spec->container,
                       strerror(errno));
            goto fail;
        }
        switched = 1;
    }
    child = (struct exec_child){.spec = spec, .mntns = mntns, .cgroupns = cgroupns, .root = root, .slave = slave, .stdio = stdio,
                                .report = report[1],
                                .devices_v1_dir = target->cgroup_dir == NULL ? target->devices_v1_dir : NULL,
                                .covered = devices_filtered(target->cgroup_dir, target->devices_v1_dir),
                                .userns_fd = target->userns_fd, .seccomp = &filter};
    pid = fork_into(cgroup, &into);
    if (pid == 0) {
        close(report[0]);
        if (res->master >= 0)
            close(res->master);
        if (!into && cgroup >= 0)
            child.enter_cgroup = target->cgroup_dir;
        run_child(&child);
    }
    /* Back to the monitor's own namespace, whatever happened: its next container must not
     * land in this one. Setting it to the caller's active namespace is always allowed. */
    if (switched && setns(own_pidns(), CLONE_NEWPID) < 0)
        fprintf(stderr, "podd-monitor: setns back to the own PID namespace: %s\n", strerror(errno));
    if (pid < 0) {
        setup_fail(&res->error, errno, "fork", "%s", strerror(errno));
        goto fail;
    }
    close(report[1]);
    report[1] = -1;

    for (;;) {
        struct exec_report r;
        ssize_t n = read(report[0], &r, sizeof r);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (n != (ssize_t)sizeof r)
            continue;
        if (r.kind == REPORT_HOSTPID) {
            res->hostpid = r.pid;
        } else if (r.kind == REPORT_FAILURE) {
            res->error = r.error;
            failed = 1;
        }
    }
    if (!failed && res->hostpid <= 0) {
        setup_fail(&res->error, ECHILD, "exec", "the process ended before it reported");
        failed = 1;
    }
    if (failed) {
        /* It _exits right after its report: reap it here, so no exit is reported for it. */
        waitpid(pid, NULL, 0);
        goto fail;
    }
    res->pid = pid;
    seccomp_program_release(&filter);
    close(report[0]);
    close(pidns);
    close(mntns);
    close(root);
    if (cgroupns >= 0)
        close(cgroupns);
    if (cgroup >= 0)
        close(cgroup);
    if (slave >= 0)
        close(slave);
    return 0;

fail:
    seccomp_program_release(&filter);
    for (int i = 0; i < 2; i++)
        if (report[i] >= 0)
            close(report[i]);
    if (pidns >= 0)
        close(pidns);
    if (mntns >= 0)
        close(mntns);
    if (cgroupns >= 0)
        close(cgroupns);
    if (root >= 0)
        close(root);
    if (cgroup >= 0)
        close(cgroup);
    if (slave >= 0)
        close(slave);
    if (res->master >= 0)
        close(res->master);
    res->master = -1;
    return -1;
}

/* The session id (field 6) of the process whose /proc directory is DIRFD, or -1. */
static pid_t session_of(int dirfd)
{
    char buf[512], *p;
    ssize_t n;
    int fd = openat(dirfd, "stat", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and ')': fields count from the last ')'. */
    p = strrchr(buf, ')');
    for (int field = 2; field < 6 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    return p == NULL ? -1 : (pid_t)strtol(p + 1, NULL, 10);
}

/* Signals the process whose /proc directory is DIRFD if its session is SID. The directory
 * that was read is the process that is killed, even if its PID were reused meanwhile. */
static void kill_if_in_session(int dirfd, pid_t sid)
{
    if (session_of(dirfd) == sid)
        syscall(SYS_pidfd_send_signal, dirfd, SIGKILL, NULL, 0);
}

/* Every process of /proc (PROC) whose session is SID. */
static void kill_session_in_proc(DIR *proc, pid_t sid)
{
    struct dirent *d;
    while ((d = readdir(proc)) != NULL) {
        int fd;
        if (d->d_name[0] < '1' || d->d_name[0] > '9')
            continue;
        fd = openat(dirfd(proc), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        kill_if_in_session(fd, sid);
        close(fd);
    }
}

/* Every process of session SID in the cgroup CGFD and the groups below it (DEPTH levels at
 * most). Returns -1 when a group's cgroup.procs cannot be read. */
static int kill_session_in_cgroup(int procfd, int cgfd, pid_t sid, int depth)
{
    char buf[4096], name[16];
    size_t have = 0;
    int fd = openat(cgfd, "cgroup.procs", O_RDONLY | O_CLOEXEC), failed = 0;
    DIR *dir;
    struct dirent *d;

    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        char *line, *end;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        /* Whole lines only; a PID cut by the buffer's end waits for the next read. */
        line = buf;
        while ((end = strchr(line, '\n')) != NULL) {
            *end = '\0';
            if (snprintf(name, sizeof name, "%s", line) < (int)sizeof name && name[0] >= '1' && name[0] <= '9') {
                int pfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd >= 0) {
                    kill_if_in_session(pfd, sid);
                    close(pfd);
                }
            }
            line = end + 1;
        }
        have = strlen(line);
        memmove(buf, line, have);
    }
    close(fd);
    if (depth <= 0)
        return 0;
    /* Groups a (privileged) command made below its container's: their processes too. */
    fd = openat(cgfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    while ((d = readdir(dir)) != NULL) {
        int sub;
        if (d->d_type != DT_DIR || d->d_name[0] == '.')
            continue;
        sub = openat(cgfd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0)
            continue;
        failed |= kill_session_in_cgroup(procfd, sub, sid, depth - 1) < 0;
        close(sub);
    }
    closedir(dir);
    return failed ? -1 : 0;
}

void exec_kill_session(pid_t leader, pid_t leader_hostpid, const char *cgroup_dir)
{
    DIR *proc;
    int cgfd;

    if (leader > 0)
        kill(-leader, SIGKILL);
    if (leader_hostpid <= 0 || (proc = opendir("/proc")) == NULL)
        return;
    /* Jobs of an interactive shell have process groups of their own but keep the session.
     * Each process is signalled through its /proc directory as a pidfd, which works
     * whatever PID namespace the monitor is in (/proc shows podd's PIDs). The session's
     * processes are in the container's cgroup, where it was started: its few processes are
     * read there (what a container may not leave), instead of every process of the host,
     * which cost the monitor a millisecond and more of CPU after each exec. */
    cgfd = cgroup_dir != NULL ? open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (cgfd < 0 || kill_session_in_cgroup(dirfd(proc), cgfd, leader_hostpid, 4) < 0)
        kill_session_in_proc(proc, leader_hostpid);
    if (cgfd >= 0)
        close(cgfd);
    closedir(proc);
}
