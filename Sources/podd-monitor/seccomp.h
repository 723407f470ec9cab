/* seccomp.h - the system calls a container may not make.
 *
 * A minimal filter in the spirit of Docker's default profile for a process without
 * CAP_SYS_ADMIN: no new namespaces (unshare, setns, clone with a CLONE_NEW* flag; clone3
 * answers ENOSYS so that libc falls back to clone, whose flags the filter can read), no
 * kernel keyrings, BPF, perf events, kexec, module loading, mounts or handle-based opens.
 * Every other call is allowed. A foreign ABI (i386 or x32 calls from an x86_64 process)
 * is refused outright: its numbers would slip past the checks. The coming isolation issue's
 * default profile replaces this list.
 */
#ifndef PODD_MONITOR_SECCOMP_H
#define PODD_MONITOR_SECCOMP_H

#include "setup_error.h"

/* Install the filter on the calling process (inherited by its children and kept across
 * exec). It must still hold CAP_SYS_ADMIN (the container's capabilities are dropped after),
 * so no_new_privs is not needed. Returns 0 or -1 with E filled (stage "seccomp"). */
int seccomp_install_default(struct setup_error *e);

#endif
