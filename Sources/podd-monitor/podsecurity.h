/* podsecurity.h - the pod-wide part of securityContext, applied once in the sandbox:
 * sysctls (written in the pod's own network and IPC namespaces) and fsGroup ownership of
 * the memory-backed emptyDir volumes the monitor mounts (podd owns the disk-backed ones).
 */
#ifndef PODD_MONITOR_PODSECURITY_H
#define PODD_MONITOR_PODSECURITY_H

#include "setup_error.h"

#define POD_MAX_SYSCTLS 64

struct pod_security {
    const char *sysctl[POD_MAX_SYSCTLS]; /* NAME=VALUE, NAME dotted (net.ipv4.tcp_syncookies) */
    int sysctl_count;
    long long fs_group;                  /* -1: none */
};

/* Validate one --sysctl argument (podd checked it against kubelet's safe list already; this
 * only makes sure it names a file under /proc/sys). */
int pod_sysctl_valid(const char *arg);

/* Write the sysctls, then give the TMPFS_COUNT memory volumes at TMPFS_PATH to fs_group
 * (group-owned, setgid, as kubelet does). After sandbox_create. Returns 0 or -1 with E
 * filled ("sysctl(NAME)", "fsGroup(PATH)"). */
int pod_security_apply(const struct pod_security *ps, const char *const *tmpfs_path, int tmpfs_count,
                       struct setup_error *e);

#endif
