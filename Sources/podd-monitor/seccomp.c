/* seccomp.c - see seccomp.h. */
#define _GNU_SOURCE
#include "seccomp.h"
#include "seccomp_table.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#define CAP_BIT(c) ((uint64_t)1 << (c))

/* containerd's default allowlist (no conditions), as of containerd 2.x. */
static const char *const default_allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
    "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
    "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
    "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
    "mknodat", "mlock", "mlock2", "mlockall", "map_shadow_stack", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
    "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep",
    "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
    "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
    "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64",
    "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
    /* kernel >= 4.8 */
    "process_vm_readv", "process_vm_writev", "ptrace",
#if defined(__x86_64__)
    "arch_prctl", "modify_ldt",
#elif defined(__aarch64__)
    "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
    "set_tls",
#endif
    NULL,
};

/* Calls allowed when the bounding set holds a capability (containerd's list). */
static const struct {
    int cap;
    const char *names[24];
} cap_allowed[] = {
    {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
    {CAP_SYS_ADMIN, {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                     "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
                     "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
                     "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
    {CAP_SYS_BOOT, {"reboot"}},
    {CAP_SYS_CHROOT, {"chroot"}},
    {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
    {CAP_SYS_PACCT, {"acct"}},
    {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                      "process_vm_writev", "ptrace"}},
    {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
    {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {CAP_SYS_TTY_CONFIG, {"vhangup"}},
    {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {CAP_SYSLOG, {"syslog"}},
    {CAP_BPF, {"bpf"}},
    {CAP_PERFMON, {"perf_event_open"}},
};

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
                         CLONE_NEWNET | CLONE_NEWCGROUP)

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* The personality(2) values containerd allows: PER_LINUX, PER_LINUX32, UNAME26 with each,
 * and the query. */
static const unsigned personalities[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};

static int parse_action(const char *text, size_t len, uint32_t *action)
{
    char buf[32];
    char *end;
    unsigned long n;

    if (len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (strcmp(buf, "allow") == 0) {
        *action = SCMP_ACT_ALLOW;
    } else if (strcmp(buf, "errno") == 0) {
        *action = SCMP_ACT_ERRNO(EPERM);
    } else if (strncmp(buf, "errno:", 6) == 0) {
        errno = 0;
        n = strtoul(buf + 6, &end, 10);
        if (buf[6] == '\0' || *end != '\0' || errno != 0 || n > 0xffff)
            return -1;
        *action = SCMP_ACT_ERRNO((uint32_t)n);
    } else if (strcmp(buf, "kill") == 0) {
        *action = SCMP_ACT_KILL_THREAD;
    } else if (strcmp(buf, "kill_process") == 0) {
        *action = SCMP_ACT_KILL_PROCESS;
    } else if (strcmp(buf, "trap") == 0) {
        *action = SCMP_ACT_TRAP;
    } else if (strcmp(buf, "log") == 0) {
        *action = SCMP_ACT_LOG;
    } else {
        return -1;
    }
    return 0;
}

static int parse_op(const char *text, size_t len, enum scmp_compare *op)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {{"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE},
               {"eq", SCMP_CMP_EQ}, {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT},
               {"masked_eq", SCMP_CMP_MASKED_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strlen(ops[i].name) == len && strncmp(ops[i].name, text, len) == 0) {
            *op = ops[i].op;
            return 0;
        }
    }
    return -1;
}

/* One "INDEX:OP:VALUE[:VALUE2]" condition. */
static int parse_condition(const char *text, size_t len, struct scmp_arg_cmp *cmp)
{
    char buf[96], *p, *end, *fields[4];
    int n = 0;
    unsigned long long index;

    if (len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    for (p = buf; n < 4;) {
        fields[n++] = p;
        p = strchr(p, ':');
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    if (p != NULL || n < 3)
        return -1;
    memset(cmp, 0, sizeof *cmp);
    errno = 0;
    index = strtoull(fields[0], &end, 10);
    if (*end != '\0' || fields[0][0] == '\0' || index > 5)
        return -1;
    cmp->arg = (unsigned)index;
    if (parse_op(fields[1], strlen(fields[1]), &cmp->op) < 0)
        return -1;
    cmp->datum_a = strtoull(fields[2], &end, 0);
    if (*end != '\0' || fields[2][0] == '\0' || errno != 0)
        return -1;
    if (n == 4) {
        cmp->datum_b = strtoull(fields[3], &end, 0);
        if (*end != '\0' || fields[3][0] == '\0' || errno != 0)
            return -1;
    }
    return 0;
}

#define MAX_CONDITIONS 6

struct parsed_rule {
    uint32_t action;
    char name[64];
    struct scmp_arg_cmp args[MAX_CONDITIONS];
    unsigned nargs;
};

static int parse_rule(const char *rule, struct parsed_rule *r)
{
    const char *p = rule;
    size_t n = strcspn(p, " ");

    memset(r, 0, sizeof *r);
    if (n == 0 || parse_action(p, n, &r->action) < 0)
        return -1;
    p += n;
    while (*p == ' ')
        p++;
    n = strcspn(p, " ");
    if (n == 0 || n >= sizeof r->name)
        return -1;
    memcpy(r->name, p, n);
    p += n;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        n = strcspn(p, " ");
        if (n == 0)
            break;
        if (r->nargs == MAX_CONDITIONS || parse_condition(p, n, &r->args[r->nargs++]) < 0)
            return -1;
        p += n;
    }
    return 0;
}

int seccomp_rule_valid(const char *rule)
{
    struct parsed_rule r;
    return parse_rule(rule, &r) == 0;
}

int seccomp_action_valid(const char *action)
{
    uint32_t a;
    return parse_action(action, strlen(action), &a) == 0;
}

/* Add a rule; a name libseccomp does not know (a newer call, another architecture's) is
 * skipped, as runc and crun skip it. Conditions on the same argument go in separate rules,
 * which libseccomp requires (and which is how runc reads such a profile). */
static int add_rule(scmp_filter_ctx ctx, uint32_t def, const struct parsed_rule *r,
                    struct setup_error *e)
{
    int nr = seccomp_syscall_resolve_name(r->name);
    int rc, repeated = 0;

    if (nr == __NR_SCMP_ERROR || r->action == def)
        return 0;
    for (unsigned i = 0; i < r->nargs; i++)
        for (unsigned j = i + 1; j < r->nargs; j++)
            repeated |= r->args[i].arg == r->args[j].arg;
    if (repeated) {
        for (unsigned i = 0; i < r->nargs; i++) {
            rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &r->args[i]);
            if (rc < 0)
                return setup_fail(e, -rc, "seccomp", "rule for %s: %s", r->name, strerror(-rc));
        }
        return 0;
    }
    rc = seccomp_rule_add_array(ctx, r->action, nr, r->nargs, r->args);
    if (rc < 0)
        return setup_fail(e, -rc, "seccomp", "rule for %s: %s", r->name, strerror(-rc));
    return 0;
}

static int add_names(scmp_filter_ctx ctx, uint32_t def, uint32_t action, const char *const *names,
                     size_t count, struct setup_error *e)
{
    struct parsed_rule r;
    for (size_t i = 0; i < count && names[i] != NULL; i++) {
        memset(&r, 0, sizeof r);
        r.action = action;
        snprintf(r.name, sizeof r.name, "%s", names[i]);
        if (add_rule(ctx, def, &r, e) < 0)
            return -1;
    }
    return 0;
}

static int add_arch(scmp_filter_ctx ctx, const char *name, struct setup_error *e)
{
    uint32_t arch = seccomp_arch_resolve_name(name);
    int rc;
    if (arch == 0)
        return setup_fail(e, EINVAL, "seccomp", "unknown architecture %s", name);
    rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST)
        return setup_fail(e, -rc, "seccomp", "add architecture %s: %s", name, strerror(-rc));
    return 0;
}

static int build_runtime_default(scmp_filter_ctx ctx, uint32_t def, uint64_t caps, struct setup_error *e)
{
    struct parsed_rule r;

#if defined(__x86_64__)
    if (add_arch(ctx, "x86", e) < 0 || add_arch(ctx, "x32", e) < 0)
        return -1;
#elif defined(__aarch64__)
    if (add_arch(ctx, "arm", e) < 0)
        return -1;
#endif
    if (add_names(ctx, def, SCMP_ACT_ALLOW, default_allowed, sizeof default_allowed / sizeof default_allowed[0], e) < 0)
        return -1;

    memset(&r, 0, sizeof r);
    r.action = SCMP_ACT_ALLOW;
    snprintf(r.name, sizeof r.name, "socket");
    r.nargs = 1;
    r.args[0] = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_NE, AF_VSOCK);
    if (add_rule(ctx, def, &r, e) < 0)
        return -1;
    snprintf(r.name, sizeof r.name, "personality");
    for (size_t i = 0; i < sizeof personalities / sizeof personalities[0]; i++) {
        r.args[0] = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_EQ, personalities[i]);
        if (add_rule(ctx, def, &r, e) < 0)
            return -1;
    }

    for (size_t i = 0; i < sizeof cap_allowed / sizeof cap_allowed[0]; i++)
        if ((caps & CAP_BIT(cap_allowed[i].cap)) &&
            add_names(ctx, def, SCMP_ACT_ALLOW, cap_allowed[i].names, 24, e) < 0)
            return -1;

    if (!(caps & CAP_BIT(CAP_SYS_ADMIN))) {
        /* clone without a namespace flag; clone3 hides its flags in memory the filter cannot
         * read, so it answers ENOSYS and libc falls back to clone. */
        snprintf(r.name, sizeof r.name, "clone");
        r.args[0] = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_MASKED_EQ, NAMESPACE_FLAGS, 0);
        if (add_rule(ctx, def, &r, e) < 0)
            return -1;
        memset(&r, 0, sizeof r);
        r.action = SCMP_ACT_ERRNO(ENOSYS);
        snprintf(r.name, sizeof r.name, "clone3");
        if (add_rule(ctx, def, &r, e) < 0)
            return -1;
    }
    return 0;
}

/* Build the filter into CTX. */
static int build(scmp_filter_ctx ctx, uint32_t def, const struct seccomp_spec *spec, uint64_t caps,
                 struct setup_error *e)
{
    if (spec->mode == SECCOMP_RUNTIME_DEFAULT)
        return build_runtime_default(ctx, def, caps, e);
    for (size_t i = 0; i < spec->arch_count; i++)
        if (add_arch(ctx, spec->archs[i], e) < 0)
            return -1;
    for (size_t i = 0; i < spec->rule_count; i++) {
        struct parsed_rule r;
        if (parse_rule(spec->rules[i], &r) < 0)
            return setup_fail(e, EINVAL, "seccomp", "bad rule %s", spec->rules[i]);
        if (add_rule(ctx, def, &r, e) < 0)
            return -1;
    }
    return 0;
}

/* Reads back, whole, the program a compiler exported to FD (a memfd). */
static int read_program(int fd, struct seccomp_program *out, struct setup_error *e)
{
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
        st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
        return setup_fail(e, EINVAL, "seccomp", "the compiled filter has a bad size");
    out->filter = malloc((size_t)st.st_size);
    if (out->filter == NULL)
        return setup_fail(e, ENOMEM, "seccomp", "out of memory");
    n = pread(fd, out->filter, (size_t)st.st_size, 0);
    if (n != st.st_size) {
        free(out->filter);
        out->filter = NULL;
        return setup_fail(e, EIO, "seccomp", "read the compiled filter back");
    }
    out->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
    return 0;
}

/* --- RuntimeDefault as a table (seccomp_table.h) ------------------------------------------
 * The same rules as build_runtime_default, per architecture's numbers, for the short program;
 * compile() uses it only where it decides as libseccomp's program does. */

/* Where each ABI's numbers go: x32's calls reach the filter as AUDIT_ARCH_X86_64. */
static const struct {
    uint32_t table_arch, resolve_arch;
    int wide;
} table_abis[] = {
#if defined(__x86_64__)
    {SCMP_ARCH_X86_64, SCMP_ARCH_X86_64, 1}, {SCMP_ARCH_X86_64, SCMP_ARCH_X32, 0}, {SCMP_ARCH_X86, SCMP_ARCH_X86, 0},
#elif defined(__aarch64__)
    {SCMP_ARCH_AARCH64, SCMP_ARCH_AARCH64, 1}, {SCMP_ARCH_ARM, SCMP_ARCH_ARM, 0},
#endif
};
#define TABLE_ARCHS 2
#define TABLE_ENTRIES 1024

struct table_builder {
    struct seccomp_arch_table archs[TABLE_ARCHS];
    struct seccomp_table_entry entries[TABLE_ARCHS][2 * TABLE_ENTRIES];
    size_t arch_count;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* NAME's decision in RuntimeDefault for a container with bounding set CAPS; 0 if it has
 * none (the default action). */
static int runtime_default_decision(const char *name, uint64_t caps, struct seccomp_decision *d)
{
    /* default_allowed sorted, for a binary search per call number (three ABIs' worth). */
    static const char *sorted[sizeof default_allowed / sizeof default_allowed[0]];
    static size_t sorted_count;

    if (sorted_count == 0) {
        while (default_allowed[sorted_count] != NULL) {
            sorted[sorted_count] = default_allowed[sorted_count];
            sorted_count++;
        }
        qsort(sorted, sorted_count, sizeof sorted[0], by_name);
    }
    memset(d, 0, sizeof *d);
    d->action = SCMP_ACT_ALLOW;
    if (bsearch(&name, sorted, sorted_count, sizeof sorted[0], by_name) != NULL)
        return 1;
    for (size_t i = 0; i < sizeof cap_allowed / sizeof cap_allowed[0]; i++)
        if (caps & CAP_BIT(cap_allowed[i].cap))
            for (size_t k = 0; k < 24 && cap_allowed[i].names[k] != NULL; k++)
                if (strcmp(cap_allowed[i].names[k], name) == 0)
                    return 1;
    if (strcmp(name, "socket") == 0) {
        d->kind = SECCOMP_ARG0_NOT_EQUAL;
        d->values[d->value_count++] = AF_VSOCK;
        return 1;
    }
    if (strcmp(name, "personality") == 0) {
        d->kind = SECCOMP_ARG0_IN;
        for (size_t i = 0; i < sizeof personalities / sizeof personalities[0]; i++)
            d->values[d->value_count++] = personalities[i];
        return 1;
    }
    if (!(caps & CAP_BIT(CAP_SYS_ADMIN)) && strcmp(name, "clone") == 0) {
        d->kind = SECCOMP_ARG0_MASK_CLEAR;
        d->values[d->value_count++] = NAMESPACE_FLAGS;
        return 1;
    }
    if (!(caps & CAP_BIT(CAP_SYS_ADMIN)) && strcmp(name, "clone3") == 0) {
        d->action = SCMP_ACT_ERRNO(ENOSYS);
        return 1;
    }
    return 0;
}

/* Each ABI's numbers, read back to names: this also finds the numbers libseccomp adds for a
 * name on its own (i386's direct socket calls, whose names resolve to socketcall's). */
static int runtime_default_table(struct table_builder *b, uint32_t def, uint64_t caps)
{
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < sizeof table_abis / sizeof table_abis[0]; i++) {
        struct seccomp_arch_table *t = NULL;
        uint32_t base = table_abis[i].resolve_arch == SCMP_ARCH_X32 ? 0x40000000u : 0;

        for (size_t a = 0; a < b->arch_count; a++)
            if (b->archs[a].audit_arch == table_abis[i].table_arch)
                t = &b->archs[a];
        if (t == NULL) {
            if (b->arch_count == TABLE_ARCHS)
                return -1;
            t = &b->archs[b->arch_count];
            *t = (struct seccomp_arch_table){table_abis[i].table_arch, def, b->entries[b->arch_count], 0};
            b->arch_count++;
        }
        for (uint32_t nr = base; nr < base + TABLE_ENTRIES; nr++) {
            struct seccomp_decision d;
            char *name = seccomp_syscall_resolve_num_arch(table_abis[i].resolve_arch, (int)nr);
            int decided;

            if (name == NULL)
                continue;
            decided = runtime_default_decision(name, caps, &d);
            free(name);
            if (!decided)
                continue;
            for (size_t k = 0; k < t->count; k++)
                if (t->entries[k].nr == nr)
                    return -1; /* x32's and x86_64's numbers never meet */
            if (t->count == 2 * TABLE_ENTRIES)
                return -1;
            d.wide = table_abis[i].wide;
            t->entries[t->count++] = (struct seccomp_table_entry){nr, d};
        }
    }
    return b->arch_count == 0 ? -1 : 0;
}

/* First arguments that reach each condition's edges: socket's family, personality's values
 * and their neighbours, each namespace flag of clone, a fork's flags, and high halves. */
static const uint64_t arg_probes[] = {
    0, 1, 8, 9, 0x11, AF_VSOCK - 1, AF_VSOCK, AF_VSOCK + 1, 0x20000, 0x20008, 0x20009, 0xfffffffe, 0xffffffff,
    CLONE_NEWNS | 0x11, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
    0x01200011, (1ULL << 32) | AF_VSOCK, 1ULL << 32, (1ULL << 32) | 8, 0xffffffff00000000ULL | 0x20000, ~0ULL,
};

/* Replaces the libseccomp program in PROGRAM (a memfd) by the short one, when the short one
 * decides every probe alike; otherwise leaves it (and says why on stderr). */
static void shorten_runtime_default(int program, uint32_t def, uint64_t caps)
{
    struct table_builder *b = malloc(sizeof *b);
    struct seccomp_program reference = {0};
    struct setup_error e = {{0}, 0, {0}};
    struct sock_filter *shorter = NULL;
    unsigned short len = 0;
    uint32_t archs[TABLE_ARCHS];
    int agree;

    if (b == NULL || runtime_default_table(b, def, caps) < 0 || read_program(program, &reference, &e) < 0 ||
        seccomp_table_compile(b->archs, b->arch_count, SCMP_ACT_KILL_THREAD, &shorter, &len) < 0) {
        free(b);
        free(reference.filter);
        return;
    }
    for (size_t a = 0; a < b->arch_count; a++)
        archs[a] = b->archs[a].audit_arch;
    agree = seccomp_programs_agree(reference.filter, reference.len, shorter, len, archs, b->arch_count, arg_probes,
                                   sizeof arg_probes / sizeof arg_probes[0]);
    if (agree != 0) {
        fprintf(stderr, "podd-monitor: seccomp: the short RuntimeDefault program %s libseccomp's; using libseccomp's\n",
                agree < 0 ? "could not be checked against" : "decides differently from");
    } else if (ftruncate(program, 0) < 0 ||
               pwrite(program, shorter, len * sizeof *shorter, 0) != (ssize_t)(len * sizeof *shorter)) {
        /* A half-written program would be refused by read_program's size check or, worse,
         * be wrong: start again from libseccomp's. */
        if (ftruncate(program, 0) == 0 &&
            pwrite(program, reference.filter, reference.len * sizeof *reference.filter, 0) < 0)
            (void)ftruncate(program, 0);
    }
    free(shorter);
    free(reference.filter);
    free(b);
}

/* Compiles the filter in a child process and reads the program back. libseccomp's compiler
 * grows the heap by a few hundred kB, and a heap, once grown and fragmented, stays the
 * process's (malloc_trim gives back only its top): the monitor lives as long as its pod and
 * must stay small (issue 9: under 150 kB private), so the compiler runs in a child that
 * exits. The child writes the program to a memfd, or its setup_error to a pipe. */
static int compile(const struct seccomp_spec *spec, uint32_t def, uint64_t caps, struct seccomp_program *out,
                   struct setup_error *e)
{
    int program = memfd_create("seccomp", MFD_CLOEXEC), errors[2], status, rc;
    pid_t pid;

    if (program < 0)
        return setup_fail(e, errno, "seccomp", "memfd_create: %s", strerror(errno));
    if (pipe2(errors, O_CLOEXEC) < 0) {
        int err = errno;
        close(program);
        return setup_fail(e, err, "seccomp", "pipe: %s", strerror(err));
    }
    pid = fork();
    if (pid < 0) {
        int err = errno;
        close(program);
        close(errors[0]);
        close(errors[1]);
        return setup_fail(e, err, "seccomp", "fork the filter's compiler: %s", strerror(err));
    }
    if (pid == 0) {
        struct setup_error ce = {{0}, 0, {0}};
        scmp_filter_ctx ctx = seccomp_init(def);
        /* A binary tree of the syscall numbers instead of one long chain of comparisons: the
         * same decisions, and the kernel loads it three to four times faster (RuntimeDefault
         * here: 0.25 ms against 0.75-1.0 ms for seccomp(2) in every container start and
         * exec) and evaluates each system call in log time. Best effort: without it (an
         * older libseccomp) the chain is as correct. */
        if (ctx != NULL)
            (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (ctx == NULL) {
            setup_fail(&ce, ENOMEM, "seccomp", "seccomp_init failed");
        } else if (build(ctx, def, spec, caps, &ce) == 0 && (rc = seccomp_export_bpf(ctx, program)) < 0) {
            setup_fail(&ce, -rc, "seccomp", "export the filter: %s", strerror(-rc));
        } else if (ce.stage[0] == '\0' && spec->mode == SECCOMP_RUNTIME_DEFAULT) {
            shorten_runtime_default(program, def, caps);
        }
        if (ce.stage[0] != '\0') {
            if (write(errors[1], &ce, sizeof ce) != (ssize_t)sizeof ce)
                _exit(2);
            _exit(1);
        }
        _exit(0);
    }
    close(errors[1]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (read(errors[0], e, sizeof *e) == (ssize_t)sizeof *e) {
        rc = -1;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        rc = setup_fail(e, ECHILD, "seccomp", "the filter's compiler ended without a program (status %d)", status);
    } else {
        rc = read_program(program, out, e);
    }
    close(errors[0]);
    close(program);
    return rc;
}

/* Bump when the RuntimeDefault tables above (or how they are compiled) change: it names the
 * files of the shared cache, so a new monitor never installs an old program. */
#define RUNTIME_DEFAULT_VERSION "containerd2-3"

static const char *cache_dir;

void seccomp_set_cache_dir(const char *dir) { cache_dir = dir; }

static void cache_path(char *buf, size_t size, uint64_t caps)
{
    snprintf(buf, size, "%s/runtime-default-%s-%016llx.bpf", cache_dir, RUNTIME_DEFAULT_VERSION,
             (unsigned long long)caps);
}

/* A program another monitor compiled, or -1. */
static int cache_read(uint64_t caps, struct seccomp_program *out)
{
    char path[4096];
    struct stat st;
    int fd;

    if (cache_dir == NULL)
        return -1;
    cache_path(path, sizeof path, caps);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || st.st_uid != 0 || st.st_size <= 0 ||
        st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
        st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS ||
        (out->filter = malloc((size_t)st.st_size)) == NULL) {
        close(fd);
        return -1;
    }
    if (pread(fd, out->filter, (size_t)st.st_size, 0) != st.st_size) {
        free(out->filter);
        out->filter = NULL;
        close(fd);
        return -1;
    }
    close(fd);
    out->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
    return 0;
}

/* Written to a temporary file and renamed, so a reader sees all of it or nothing; a failure
 * only means the next monitor compiles again. */
static void cache_write(uint64_t caps, const struct seccomp_program *p)
{
    char path[4096], tmp[4200];
    int fd;

    if (cache_dir == NULL)
        return;
    cache_path(path, sizeof path, caps);
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, p->filter, p->len * sizeof *p->filter) != (ssize_t)(p->len * sizeof *p->filter) ||
        rename(tmp, path) < 0)
        unlink(tmp);
    close(fd);
}

/* The shared cache's lock, taken on a miss: the monitors of a burst of new pods each found
 * no program and each compiled the same one (17% of the CPU of 300 pods created by 16 clients
 * on 2 cores). Now the first compiles and the others wait for its file. The kernel drops the
 * lock of a monitor that dies holding it; -1 (no lock) only means compiling unshared. */
static int cache_lock(void)
{
    char path[4096];
    int fd;

    if (cache_dir == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/runtime-default.lock", cache_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* RuntimeDefault programs by bounding set: a pod's containers mostly share one. */
#define CACHE_SIZE 8
static struct {
    uint64_t caps;
    struct seccomp_program prog;
} cache[CACHE_SIZE];
static int cache_count;

int seccomp_prepare(const struct seccomp_spec *spec, uint64_t caps, struct seccomp_program *out,
                    struct setup_error *e)
{
    uint32_t def = SCMP_ACT_ERRNO(EPERM);

    memset(out, 0, sizeof *out);
    if (spec->mode == SECCOMP_UNCONFINED)
        return 0;
    if (spec->mode == SECCOMP_RUNTIME_DEFAULT) {
        for (int i = 0; i < cache_count; i++) {
            if (cache[i].caps == caps) {
                *out = cache[i].prog;
                return 0;
            }
        }
    }
    if (spec->mode == SECCOMP_PROFILE && spec->default_action != NULL &&
        parse_action(spec->default_action, strlen(spec->default_action), &def) < 0)
        return setup_fail(e, EINVAL, "seccomp", "bad default action %s", spec->default_action);
    if (spec->mode != SECCOMP_RUNTIME_DEFAULT) {
        if (compile(spec, def, caps, out, e) < 0)
            return -1;
    } else if (cache_read(caps, out) != 0) {
        int lock = cache_lock(), rc = 0;
        /* Another monitor may have written it while this one waited for the lock. */
        if (lock < 0 || cache_read(caps, out) != 0) {
            rc = compile(spec, def, caps, out, e);
            if (rc == 0)
                cache_write(caps, out);
        }
        if (lock >= 0)
            close(lock);
        if (rc < 0)
            return -1;
    }
    if (spec->mode == SECCOMP_RUNTIME_DEFAULT && cache_count < CACHE_SIZE) {
        out->cached = 1;
        cache[cache_count].caps = caps;
        cache[cache_count++].prog = *out;
    }
    return 0;
}

void seccomp_program_release(struct seccomp_program *p)
{
    if (!p->cached)
        free(p->filter);
    p->filter = NULL;
    p->len = 0;
}

int seccomp_apply(const struct seccomp_program *prog, struct setup_error *e)
{
    struct sock_fprog fprog = {.len = prog->len, .filter = prog->filter};
    if (prog->len == 0)
        return 0;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
        return setup_fail(e, errno, "seccomp", "load the container's seccomp filter: %s", strerror(errno));
    return 0;
}
