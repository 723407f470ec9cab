/* seccomp.c - see seccomp.h. A classic BPF program over struct seccomp_data. */
#define _GNU_SOURCE
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#define X32_SYSCALL_BIT 0
#else
#error "podd-monitor's seccomp filter knows x86_64 and aarch64"
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
                         CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)

#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define DENY(err) RET(SECCOMP_RET_ERRNO | ((err) & SECCOMP_RET_DATA))
#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
/* If the syscall number is NR, return ACTION; else go on (two instructions). */
#define REFUSE(nr, action) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), RET(action)

/* Calls refused whatever their arguments, with EPERM as a process lacking the capability
 * would get. */
#define REFUSED_CALLS(X)                                                                          \
    X(__NR_setns) X(__NR_keyctl) X(__NR_add_key) X(__NR_request_key) X(__NR_bpf)                  \
    X(__NR_perf_event_open) X(__NR_kexec_load) X(__NR_kexec_file_load) X(__NR_init_module)       \
    X(__NR_finit_module) X(__NR_delete_module) X(__NR_mount) X(__NR_umount2) X(__NR_pivot_root)  \
    X(__NR_open_by_handle_at) X(__NR_fsopen) X(__NR_fsconfig) X(__NR_fsmount) X(__NR_fspick)    \
    X(__NR_open_tree) X(__NR_move_mount) X(__NR_mount_setattr) X(__NR_userfaultfd)               \
    X(__NR_quotactl) X(__NR_swapon) X(__NR_swapoff) X(__NR_reboot) X(__NR_syslog) X(__NR_acct)

#define REFUSE_EPERM(nr) REFUSE(nr, SECCOMP_RET_ERRNO | EPERM),

int seccomp_install_default(struct setup_error *e)
{
    struct sock_filter filter[] = {
        LOAD(arch),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
        DENY(ENOSYS),
        LOAD(nr),
#if X32_SYSCALL_BIT
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        DENY(ENOSYS),
#endif
        REFUSED_CALLS(REFUSE_EPERM)
        REFUSE(__NR_clone3, SECCOMP_RET_ERRNO | ENOSYS),
        /* unshare(flags) and clone(flags, ...): refused when a flag makes a namespace. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 1),
        DENY(EPERM),
        RET(SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = (unsigned short)(sizeof filter / sizeof filter[0]), .filter = filter};

    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return setup_fail(e, errno, "seccomp", "install the container's seccomp filter: %s", strerror(errno));
    return 0;
}
