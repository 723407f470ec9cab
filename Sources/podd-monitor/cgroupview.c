/* cgroupview.c - see cgroupview.h.
 *
 * Runs in the container process between fork and exec, after unshare(CLONE_NEWCGROUP) and
 * inside the container's fresh mount namespace, before pivot_root: every target is opened
 * beneath the container's new sysfs mount without following a symlink, and mounted on its
 * /proc/self/fd/N (as rootfs.c does).
 */
#define _GNU_SOURCE
#include "cgroupview.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 24

struct hierarchy {
    char name[64];     /* its directory under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd" */
    char options[128]; /* what names the hierarchy to mount(2): "memory", "name=systemd" */
};

static int open_beneath(int dir, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
}

static int mount_on(const char *source, int fd, const char *fstype, unsigned long flags, const char *data)
{
    char target[40];
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    return mount(source, target, fstype, flags, data);
}

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
        n++;
    }
    fclose(f);
    return n;
}

/* The symlinks beside the hierarchies ("cpu" -> "cpu,cpuacct"), made again in DIR. */
static void copy_links(int dir)
{
    char target[64], path[sizeof HOST_ROOT + 72];
    DIR *d = opendir(HOST_ROOT);
    if (d == NULL)
        return;
    for (struct dirent *entry; (entry = readdir(d)) != NULL;) {
        if (entry->d_type != DT_LNK || strlen(entry->d_name) >= 64)
            continue;
        snprintf(path, sizeof path, HOST_ROOT "/%s", entry->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0 || memchr(target, '/', (size_t)len) != NULL)
            continue;  /* only links to a sibling */
        target[len] = '\0';
        symlinkat(target, dir, entry->d_name);
    }
    closedir(d);
}

int cgroup_view_mount(int sys, int privileged, struct setup_error *e)
{
    unsigned long ro = privileged ? 0 : MS_RDONLY;
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    struct hierarchy v1[MAX_HIERARCHIES];
    int unified = 0;
    int count = host_hierarchies(v1, &unified);
    int fd = open_beneath(sys, "fs/cgroup", O_PATH | O_DIRECTORY);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;  /* a kernel without the mount point: nothing to show */
        return setup_fail(e, errno, "mount(cgroup)", "open /sys/fs/cgroup: %s", strerror(errno));
    }
    if (count <= 0) {
        /* The unified layout: cgroup2 itself on /sys/fs/cgroup. */
        if (mount_on("cgroup2", fd, "cgroup2", ro | flags, NULL) < 0) {
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
    if (mount_on("tmpfs", fd, "tmpfs", flags, "mode=755,size=64k") < 0) {
        int err = errno;
        close(fd);
        return setup_fail(e, err, "mount(cgroup)", "mount a tmpfs on /sys/fs/cgroup: %s", strerror(err));
    }
    close(fd);
    int dir = open_beneath(sys, "fs/cgroup", O_RDONLY | O_DIRECTORY);
    if (dir < 0)
        return setup_fail(e, errno, "mount(cgroup)", "open the new /sys/fs/cgroup: %s", strerror(errno));
    for (int i = 0; i <= count; i++) {
        const char *name = i < count ? v1[i].name : "unified";
        if (i == count && !unified)
            break;
        char stage[96];
        snprintf(stage, sizeof stage, "mount(cgroup/%s)", name);
        if (mkdirat(dir, name, 0555) < 0 && errno != EEXIST) {
            int err = errno;
            close(dir);
            return setup_fail(e, err, stage, "mkdir /sys/fs/cgroup/%s: %s", name, strerror(err));
        }
        int point = open_beneath(dir, name, O_PATH | O_DIRECTORY);
        int rc = point < 0 ? -1
                 : i < count ? mount_on("cgroup", point, "cgroup", ro | flags, v1[i].options)
                             : mount_on("cgroup2", point, "cgroup2", ro | flags, NULL);
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
    copy_links(dir);
    /* The directory tree itself read-only too, as the hierarchies are. */
    if (!privileged && mount_on(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, NULL) < 0) {
        int err = errno;
        close(dir);
        return setup_fail(e, err, "mount(cgroup)", "make /sys/fs/cgroup read-only: %s", strerror(err));
    }
    close(dir);
    return 0;
}
