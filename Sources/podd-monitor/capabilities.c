/* capabilities.c - see capabilities.h. */
#define _GNU_SOURCE
#include "capabilities.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_BIT(c) ((uint64_t)1 << (c))

uint64_t caps_runtime_default(void)
{
    return CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_FSETID) |
           CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_MKNOD) | CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_SETGID) |
           CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETFCAP) | CAP_BIT(CAP_SETPCAP) |
           CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SYS_CHROOT) | CAP_BIT(CAP_KILL) |
           CAP_BIT(CAP_AUDIT_WRITE);
}

uint64_t caps_all(void)
{
    /* What the monitor itself holds (podd may run with fewer than the kernel knows, in a
     * container of its own): a privileged container gets all of that, as with containerd. */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    uint64_t all = 0;
    /* The bounding set is read once: nothing but a container's own setup changes it, after
     * its last use here, and a fork (a container, an exec) inherits the answer instead of
     * asking again with 64 system calls. The permitted set is asked each time: joining a
     * user namespace changes it. */
    static uint64_t bounding;
    static int bounding_known;

    if (!bounding_known) {
        for (int cap = 0; cap < 64; cap++)
            if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
                bounding |= CAP_BIT(cap);
        bounding_known = 1;
    }
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) == 0)
        all = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
    return all & bounding;
}

struct credentials credentials_of(const struct security_spec *s, int devices_covered)
{
    struct credentials c = {.uid = s->uid, .gid = s->gid, .groups = s->groups,
                            .group_count = s->group_count, .no_new_privs = s->no_new_privs};
    /* Never more than the monitor holds itself: capset could not grant it. */
    c.caps = (s->privileged ? ~(uint64_t)0 : s->caps_given ? s->caps : caps_runtime_default()) & caps_all();
    if (!s->privileged && !devices_covered)
        c.caps &= ~CAP_BIT(CAP_MKNOD);
    return c;
}

int credentials_apply(const struct credentials *c, struct setup_error *e)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];

    /* The bounding set is what root gets back at exec (a root exec gains every capability
     * in it), so it is the limit that matters. It is dropped first: dropping needs
     * CAP_SETPCAP, which the process still has. The loop ends at the first capability this
     * kernel does not know. */
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
            break;
        if (!(c->caps & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return setup_fail(e, errno, "capabilities", "drop capability %d from the bounding set: %s",
                              cap, strerror(errno));
    }

    /* Groups first (setgroups needs CAP_SETGID, gone once the uid is not 0), then the gid,
     * then the uid; KEEPCAPS keeps the permitted set across the uid change so that capset
     * below can still grant the container's set. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return setup_fail(e, errno, "prctl(keepcaps)", "%s", strerror(errno));
    if (setgroups(c->group_count, c->groups) < 0)
        return setup_fail(e, errno, "setgroups", "setgroups(%zu groups): %s", c->group_count,
                          strerror(errno));
    if (setresgid(c->gid, c->gid, c->gid) < 0)
        return setup_fail(e, errno, "setresgid", "setresgid(%u): %s", (unsigned)c->gid, strerror(errno));
    if (setresuid(c->uid, c->uid, c->uid) < 0)
        return setup_fail(e, errno, "setresuid", "setresuid(%u): %s", (unsigned)c->uid, strerror(errno));
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return setup_fail(e, errno, "prctl(keepcaps)", "%s", strerror(errno));

    /* Ambient capabilities would survive exec for a non-root user; the container gets none
     * (as with containerd: a non-root process keeps only what its files' capabilities give). */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return setup_fail(e, errno, "capabilities", "clear ambient capabilities: %s",
                          strerror(errno));
    /* Effective and permitted as the container's set; inheritable empty (as Docker since
     * 20.10, CVE-2022-24769), so nothing is inherited through exec of a file with
     * capabilities. */
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (uint32_t)c->caps;
    data[1].effective = data[1].permitted = (uint32_t)(c->caps >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return setup_fail(e, errno, "capabilities", "capset: %s", strerror(errno));

    /* allowPrivilegeEscalation: false. After the uid change (which no_new_privs would not
     * forbid anyway, but a setuid binary run afterwards could not regain what was dropped). */
    if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return setup_fail(e, errno, "prctl(no_new_privs)", "%s", strerror(errno));
    return 0;
}

int oom_score_adj_apply(const struct security_spec *security, struct setup_error *e)
{
    char value[16];
    int fd, len, err;

    if (!security->oom_score_adj_given)
        return 0;
    len = snprintf(value, sizeof value, "%d", security->oom_score_adj);
    fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0 && write(fd, value, (size_t)len) == len) {
        close(fd);
        return 0;
    }
    err = errno;
    if (fd >= 0)
        close(fd);
    /* Below the score podd runs at, without CAP_SYS_RESOURCE (podd could not lower its own
     * either): the container keeps podd's, the lowest it may have. */
    if (err == EACCES || err == EPERM)
        return 0;
    return setup_fail(e, err, "oom_score_adj", "set oom_score_adj to %s: %s", value, strerror(err));
}
