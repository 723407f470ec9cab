/* cgroupview.c - see cgroupview.h.
 *
 * Runs in the container process between fork and exec, after unshare(CLONE_NEWCGROUP) and
 * inside the container's fresh mount namespace, before pivot_root: every target is opened
 * beneath the container's new sysfs mount without following a symlink, and mounted on its
 * /proc/self/fd/N (as rootfs.c does).
 */
#define _GNU_SOURCE
#include "cgroupview.h"

#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 24
#define MAX_LINKS 8

struct hierarchy {
    char name[60];       /* its directory under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd" */
    unsigned char whole; /* the host's mount shows the whole hierarchy (its root is "/") */
    short group;         /* the container's group in it: an offset into groups, or -1 */
    char options[128];   /* what names the hierarchy to mount(2): "memory", "name=systemd" */
};

/* The host's layout, read once by the monitor (cgroup_view_prepare) and inherited by every
 * container it forks: it does not change while the monitor runs. */
static struct {
    int ready;
    int count;   /* v1 hierarchies; 0: the unified layout */
    int unified; /* cgroup2 at /sys/fs/cgroup/unified beside them */
    struct hierarchy v1[MAX_HIERARCHIES];
    int link_count;
    struct {
        char name[64], target[64];
    } links[MAX_LINKS];
} host;

/* The container's group on each hierarchy ("/podd/UID/app"), one after another, in the
 * buffer the container's process gave cgroup_view_note_groups (on its stack: the monitor's
 * memory stays as it was, 1,000 monitors each holding it otherwise). */
static char *groups;
static size_t groups_size;

/* Whether a v1 mount option without '=' is a controller, not one of the flags. */
static int is_controller_option(const char *opt)
{
    static const char *const flags[] = {"rw", "ro", "xattr", "clone_children", "noprefix", "cpuset_v2_mode",
                                        "favordynmods", "none", "relatime", "noatime", "nosuid", "nodev", "noexec"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(opt, flags[i]) == 0)
            return 0;
    return 1;
}

/* The host's v1 hierarchies mounted directly under /sys/fs/cgroup, from the mount table
 * this process still shares with the host (its namespace is a copy), and whether cgroup2
 * is mounted at /sys/fs/cgroup/unified beside them. Lines look like
 * "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory". */
static int host_hierarchies(struct hierarchy *out, int *unified)
{
    char line[4096];
    int n = 0, partial = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");

    *unified = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL && n < MAX_HIERARCHIES) {
        /* A line longer than the buffer (an overlay with many layers) is skipped whole:
         * its pieces are not lines. */
        int was_partial = partial;
        partial = strchr(line, '\n') == NULL;
        if (was_partial || partial)
            continue;
        char root[256], point[256], fstype[32], source[64], super[256];
        const char *dash = strstr(line, " - ");
        if (dash == NULL || sscanf(line, "%*s %*s %*s %255s %255s", root, point) != 2 ||
            sscanf(dash, " - %31s %63s %255s", fstype, source, super) != 3)
            continue;
        if (strncmp(point, HOST_ROOT "/", sizeof HOST_ROOT) != 0 || strchr(point + sizeof HOST_ROOT, '/') != NULL)
            continue;
        const char *name = point + sizeof HOST_ROOT;
        if (strcmp(fstype, "cgroup2") == 0) {
            *unified = strcmp(name, "unified") == 0;
            continue;
        }
        if (strcmp(fstype, "cgroup") != 0 || name[0] == '\0' || name[0] == '.' || strlen(name) >= sizeof out->name)
            continue;
        /* The super options that name the hierarchy: its controllers, or its name= (not rw,
         * xattr, release_agent=... and such, which are the superblock's flags). */
        char options[128] = "";
        for (char *save = NULL, *opt = strtok_r(super, ",", &save); opt != NULL; opt = strtok_r(NULL, ",", &save)) {
            if (strchr(opt, '=') != NULL ? strncmp(opt, "name=", 5) != 0 : !is_controller_option(opt))
                continue;
            if (strlen(options) + strlen(opt) + 2 > sizeof options)
                break;
            if (options[0] != '\0')
                strcat(options, ",");
            strcat(options, opt);
        }
        if (options[0] == '\0')
            continue;
        snprintf(out[n].name, sizeof out[n].name, "%s", name);
        snprintf(out[n].options, sizeof out[n].options, "%s", options);
        out[n].whole = strcmp(root, "/") == 0;
        out[n].group = -1;
        n++;
    }
    fclose(f);
    return n;
}

/* The symlinks beside the hierarchies ("cpu" -> "cpu,cpuacct"), to be made again. */
static void host_links(void)
{
    char path[sizeof HOST_ROOT + 72];
    DIR *d = opendir(HOST_ROOT);
    if (d == NULL)
        return;
    for (struct dirent *entry; (entry = readdir(d)) != NULL && host.link_count < MAX_LINKS;) {
        if (entry->d_type != DT_LNK || strlen(entry->d_name) >= sizeof host.links[0].name)
            continue;
        snprintf(path, sizeof path, HOST_ROOT "/%s", entry->d_name);
        char *target = host.links[host.link_count].target;
        ssize_t len = readlink(path, target, sizeof host.links[0].target - 1);
        if (len <= 0 || memchr(target, '/', (size_t)len) != NULL)
            continue;  /* only links to a sibling */
        target[len] = '\0';
        snprintf(host.links[host.link_count].name, sizeof host.links[0].name, "%s", entry->d_name);
        host.link_count++;
    }
    closedir(d);
}

/* Whether two comma-separated lists hold the same items ("cpu,cpuacct", "cpuacct,cpu"). */
static int same_items(const char *a, const char *b)
{
    char left[128], right[128];
    if (snprintf(left, sizeof left, ",%s,", a) >= (int)sizeof left || snprintf(right, sizeof right, ",%s,", b) >= (int)sizeof right)
        return 0;
    int count = 0;
    for (char *save = NULL, *item = strtok_r(left + 1, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char needle[72];
        if (snprintf(needle, sizeof needle, ",%s,", item) >= (int)sizeof needle || strstr(right, needle) == NULL)
            return 0;
        count++;
    }
    int others = 0;
    for (const char *c = b; *c != '\0'; c++)
        others += *c == ',';
    return count == others + 1;
}

void cgroup_view_prepare(void)
{
    if (host.ready)
        return;
    host.count = host_hierarchies(host.v1, &host.unified);
    if (host.count > 0)
        host_links();
    host.ready = 1;
}

void cgroup_view_note_groups(char *buf, size_t size)
{
    char text[4096];
    groups = buf;
    groups_size = size;
    int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || host.count <= 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0 || n == (ssize_t)sizeof text - 1)
        return;  /* unreadable, or more than fits: every hierarchy is mounted as before */
    text[n] = '\0';
    size_t used = 0;
    /* Lines "4:cpu,cpuacct:/podd/UID/app"; "0::/..." is cgroup2's. */
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *controllers = strchr(line, ':');
        char *path = controllers != NULL ? strchr(controllers + 1, ':') : NULL;
        if (path == NULL || path[1] != '/')
            continue;
        *path++ = '\0';
        controllers++;
        size_t len = strlen(path);
        for (int i = 0; i < host.count; i++) {
            if (!host.v1[i].whole || !same_items(controllers, host.v1[i].options) || used + len + 1 > groups_size)
                continue;
            memcpy(groups + used, path, len + 1);
            host.v1[i].group = (short)used;
            used += len + 1;
        }
    }
}

/* The container's group on v1 hierarchy I bound on POINT from the host's mount of it (a
 * detached clone of that one directory, made read-only and attached), where a mount of the
 * hierarchy in the container's cgroup namespace would show the same tree: every mount(2) of
 * a v1 hierarchy drains the whole cgroup2 hierarchy's offline groups under the global cgroup
 * mutex (cgroup1_get_tree), a walk over every pod's and container's group on the machine, a
 * dozen times per container start. Returns 0, or 1 when it cannot (its group unknown, an old
 * kernel, a refusal): the caller mounts as before. */
static int bind_own_group(int i, int point, unsigned long attrs)
{
    char source[PATH_MAX];
    const char *group = host.v1[i].group >= 0 ? groups + host.v1[i].group : NULL;
    if (group == NULL ||
        snprintf(source, sizeof source, HOST_ROOT "/%s%s", host.v1[i].name, strcmp(group, "/") == 0 ? "" : group) >= (int)sizeof source)
        return 1;
    int mnt = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (mnt < 0)
        return 1;
    struct mount_attr attr = {.attr_set = attrs};
    int rc = syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 ||
             syscall(SYS_move_mount, mnt, "", point, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0;
    close(mnt);
    return rc;
}

int cgroup_view_mount(int sys, int privileged, struct setup_error *e)
{
    unsigned long ro = privileged ? 0 : MS_RDONLY;
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    cgroup_view_prepare();
    int count = host.count;
    int fd = open_beneath_strict(sys, "fs/cgroup", O_PATH | O_DIRECTORY);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;  /* a kernel without the mount point: nothing to show */
        return setup_fail(e, errno, "mount(cgroup)", "open /sys/fs/cgroup: %s", strerror(errno));
    }
    if (count <= 0) {
        /* The unified layout: cgroup2 itself on /sys/fs/cgroup. */
        if (mount_on_fd("cgroup2", fd, "cgroup2", ro | flags, NULL) < 0) {
            int err = errno;
            close(fd);
            return setup_fail(e, err, "mount(cgroup2)", "mount cgroup2 on /sys/fs/cgroup: %s", strerror(err));
        }
        close(fd);
        return 0;
    }

    /* The hybrid layout, as runc makes it: a tmpfs with each v1 hierarchy in a directory of
     * its own, and cgroup2 at unified. Each mount shows the container's own group (the
     * cgroup namespace's root on that hierarchy). */
    if (mount_on_fd("tmpfs", fd, "tmpfs", flags, "mode=755,size=64k") < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, "mount(cgroup)", "mount a tmpfs on /sys/fs/cgroup: %s", strerror(err));
    }
    close(fd);
    int dir = open_beneath_strict(sys, "fs/cgroup", O_RDONLY | O_DIRECTORY);
    if (dir < 0)
        return setup_fail(e, errno, "mount(cgroup)", "open the new /sys/fs/cgroup: %s", strerror(errno));
    for (int i = 0; i <= count; i++) {
        const char *name = i < count ? host.v1[i].name : "unified";
        if (i == count && !host.unified)
            break;
        char stage[96];
        snprintf(stage, sizeof stage, "mount(cgroup/%s)", name);
        if (mkdirat(dir, name, 0555) < 0 && errno != EEXIST) {
            int err = errno;
            close(dir);
            return setup_fail(e, err, stage, "mkdir /sys/fs/cgroup/%s: %s", name, strerror(err));
        }
        int point = open_beneath_strict(dir, name, O_PATH | O_DIRECTORY);
        unsigned long attrs = (ro ? MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        int rc = point < 0 ? -1
                 : i < count ? (bind_own_group(i, point, attrs) == 0
                                    ? 0
                                    : mount_on_fd("cgroup", point, "cgroup", ro | flags, host.v1[i].options))
                             : mount_on_fd("cgroup2", point, "cgroup2", ro | flags, NULL);
        int err = errno;
        if (point >= 0)
            close(point);
        if (rc < 0 && i < count) {
            /* A v1 hierarchy this kernel will not mount again as the host has it: left out
             * (an empty directory would read as an empty group), the rest shown. */
            unlinkat(dir, name, AT_REMOVEDIR);
            continue;
        }
        if (rc < 0) {
            close(dir);
            return setup_fail(e, err, stage, "mount /sys/fs/cgroup/%s: %s", name, strerror(err));
        }
    }
    for (int i = 0; i < host.link_count; i++)
        symlinkat(host.links[i].target, dir, host.links[i].name);
    /* The directory tree itself read-only too, as the hierarchies are. */
    if (!privileged && mount_on_fd(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL) < 0) {
        int err = errno;
        close(dir);
        return setup_fail(e, err, "mount(cgroup)", "make /sys/fs/cgroup read-only: %s", strerror(err));
    }
    close(dir);
    return 0;
}
