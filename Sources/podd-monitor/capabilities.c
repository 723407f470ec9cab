/* capabilities.c - see capabilities.h. */
#define _GNU_SOURCE
#include "capabilities.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_BIT(c) ((uint64_t)1 << (c))

static const uint64_t default_caps =
    CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_FSETID) |
    CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_MKNOD) | CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_SETGID) |
    CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETFCAP) | CAP_BIT(CAP_SETPCAP) |
    CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SYS_CHROOT) | CAP_BIT(CAP_KILL) |
    CAP_BIT(CAP_AUDIT_WRITE);

int caps_limit_to_default(int keep_mknod, struct setup_error *e)
{
    uint64_t allowed = keep_mknod ? default_caps : default_caps & ~CAP_BIT(CAP_MKNOD);
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];

    /* The bounding set is what root gets back at exec (a root exec gains every capability
     * in it), so it is the limit that matters. It is dropped first: dropping needs
     * CAP_SETPCAP, which the capset below keeps but whose effect we use now. The loop ends
     * at the first capability this kernel does not know. */
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
            break;
        if (!(allowed & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return setup_fail(e, errno, "capabilities", "drop capability %d from the bounding set: %s",
                              cap, strerror(errno));
    }
    /* Ambient capabilities would survive exec for a non-root user; the container gets none. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return setup_fail(e, errno, "capabilities", "clear ambient capabilities: %s",
                          strerror(errno));
    /* Effective and permitted as the default set; inheritable empty (as Docker since 20.10,
     * CVE-2022-24769), so nothing is inherited through exec of a file with capabilities. */
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (uint32_t)allowed;
    data[1].effective = data[1].permitted = (uint32_t)(allowed >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        return setup_fail(e, errno, "capabilities", "capset: %s", strerror(errno));
    return 0;
}
