/* capabilities.h - the credentials a container's process execs with: user, groups,
 * capabilities, no_new_privs. One function, because their order matters: the bounding set
 * is dropped while the process is still root (CAP_SETPCAP), the user is switched with
 * PR_SET_KEEPCAPS so that the capabilities survive it, and capset comes last.
 */
#ifndef PODD_MONITOR_CAPABILITIES_H
#define PODD_MONITOR_CAPABILITIES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "setup_error.h"
#include "spawn_spec.h"

/* Docker's and containerd's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
 * NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE. */
uint64_t caps_runtime_default(void);

/* Every capability this kernel knows (for a privileged container). */
uint64_t caps_all(void);

struct credentials {
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* supplementary groups, GROUP_COUNT of them (0: none) */
    size_t group_count;
    uint64_t caps;       /* bounding, permitted and effective set */
    int no_new_privs;
};

/* The credentials SECURITY asks for: every capability when privileged, else its set (or the
 * runtime default), without MKNOD when no device allowlist covers the container
 * (DEVICES_COVERED 0, devices.h), so that it cannot make a node of a host device. */
struct credentials credentials_of(const struct security_spec *security, int devices_covered);

/* Become C: bounding set, groups, gid, uid, capabilities, then no_new_privs if asked. Must
 * run after the last mount (mounting needs CAP_SYS_ADMIN). Each failure names its stage
 * ("setgroups", "setresuid", "capabilities", ...). */
int credentials_apply(const struct credentials *c, struct setup_error *e);

/* The OOM killer's bias for this process (and what it forks), from SECURITY's oomScoreAdj
 * (kubelet's value for the container's QoS class); nothing when podd sent none. The
 * monitor runs at podd's -999, which a container must not inherit. Before credentials_apply:
 * going below the current value needs CAP_SYS_RESOURCE. */
int oom_score_adj_apply(const struct security_spec *security, struct setup_error *e);

#endif
