/* devices.h - which device nodes a container may create and use: runc's default allowlist.
 *
 *     c *:* m, b *:* m        any node may be created (mknod)...
 *     c 1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom, 5:0 tty, 5:2 ptmx,
 *     c 136:* (the container's own pts)          ...but only these read or written.
 *
 * On cgroup v2 the list is a BPF_PROG_TYPE_CGROUP_DEVICE program attached to each
 * container's cgroup (cgroup2 has no devices controller; the program works whatever
 * controllers the hierarchy has, on this hybrid machine too). Without a cgroup v2 group the
 * v1 devices controller enforces the same list; without either, containers lose CAP_MKNOD
 * so at least no new node can be made (reported by the caller).
 */
#ifndef PODD_MONITOR_DEVICES_H
#define PODD_MONITOR_DEVICES_H

#include <stddef.h>

#include "setup_error.h"

/* Attach the allowlist program to the cgroup v2 directory DIR (loaded once per monitor, the
 * program fd is kept close-on-exec). Returns 0 or -1 with E filled (stage "devices"). */
int devices_attach_cgroup2(const char *dir, struct setup_error *e);

/* Use FD, the allowlist program another monitor loaded (given with podd's first spawn,
 * devices=1), instead of loading one: the verifier's work is done once per podd, not once
 * per pod. Taken (and made close-on-exec) only before this monitor has a program of its
 * own; else closed. A program the kernel does not attach is replaced by one loaded here. */
void devices_use_program(int fd);

/* The program this monitor loaded itself, once, to be handed to podd for the monitors after
 * it; -1 when there is none to offer (none loaded, one received, or offered already). */
int devices_program_to_offer(void);

/* Whether a container in CGROUP_DIR (or, without it, the v1 group DEVICES_V1_DIR) has the
 * allowlist enforced: if not, it must not keep CAP_MKNOD. Where the kernel refuses bpf(2) to
 * the monitor (EPERM), devices_attach_cgroup2 succeeds without attaching and this says no. */
int devices_filtered(const char *cgroup_dir, const char *devices_v1_dir);

/* Find the v1 devices hierarchy and make the pod's group there, POD_UID under
 * MOUNT/podd, holding the allowlist (everything denied, then the rules allowed). BUF gets
 * its path. Returns 0, or -1 with errno when there is no such hierarchy or it fails. */
int devices_v1_prepare(char *buf, size_t size, const char *pod_uid);

/* Move the calling process into the v1 group DIR made by devices_v1_prepare. */
int devices_v1_enter(const char *dir, struct setup_error *e);

/* Remove the v1 group (at shutdown, once every process has gone). */
void devices_v1_remove(const char *dir);

#endif
