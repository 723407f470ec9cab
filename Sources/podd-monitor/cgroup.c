/* cgroup.c - see cgroup.h. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cgroup_write(const char *dir, const char *file, const char *value)
{
    char path[PATH_MAX];
    int fd, saved;
    ssize_t n;

    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = write(fd, value, strlen(value));
    saved = errno;
    close(fd);
    errno = saved;
    return n < 0 ? -1 : 0;
}

/* Whether the calling process is already in `dir` (podd starts the monitor there with
 * clone3(CLONE_INTO_CGROUP)). Read from /proc/self/cgroup's "0::/PATH" line: `dir` ends
 * with PATH. */
static int cgroup_is_current(const char *dir)
{
    char line[PATH_MAX + 8];
    int found = 0;
    FILE *f = fopen("/proc/self/cgroup", "re");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n, d;
        if (strncmp(line, "0::", 3) != 0)
            continue;
        n = strcspn(line + 3, "\n");
        line[3 + n] = '\0';
        d = strlen(dir);
        found = n > 1 && d >= n && strcmp(dir + d - n, line + 3) == 0;
        break;
    }
    fclose(f);
    return found;
}

int cgroup_enter(const char *dir)
{
    /* Moving a process between cgroups takes the kernel's cgroup_threadgroup_rwsem for
     * writing, which waits for an RCU grace period: about 20 ms here. Skip it when the
     * process is already there. */
    if (cgroup_is_current(dir))
        return 0;
    /* "0" means the writing process itself, whatever PID namespace it is in. */
    return cgroup_write(dir, "cgroup.procs", "0");
}

int cgroup_kill(const char *dir)
{
    return cgroup_write(dir, "cgroup.kill", "1");
}

int cgroup_make_fresh(const char *dir)
{
    struct timespec pause = {0, 10 * 1000 * 1000};

    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    /* Up to a second for leftovers to die (SIGKILL is quick unless a process is in
     * uninterruptible sleep). */
    for (int tries = 0; tries < 100; tries++) {
        if (rmdir(dir) == 0)
            return mkdir(dir, 0755);
        if (errno == ENOENT)
            return mkdir(dir, 0755);
        if (errno != EBUSY)
            return -1;
        cgroup_kill(dir);
        nanosleep(&pause, NULL);
    }
    errno = EBUSY;
    return -1;
}

int cgroup_container_dir(char *buf, size_t size, const char *pod_dir, const char *name)
{
    if (snprintf(buf, size, "%s/%s", pod_dir, name) >= (int)size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static const char *v1_dirs[CGROUP_V1_MAX];
static int v1_count;

/* Moves the calling thread into the v1 group DIR by writing "0" to its `tasks` file. The
 * kernel moves a single thread that is the writer itself without the global
 * cgroup_threadgroup_rwsem (cgroup_procs_write_start: a thread moving itself cannot exit or
 * exec meanwhile); `cgroup.procs` takes that lock for writing, which waits for an RCU grace
 * period (6-30 ms here) while holding cgroup_mutex, so every cgroup mkdir, rmdir and
 * clone3 into a cgroup on the machine waited behind each pod's move. Measured here: 0.05 ms
 * per group against 5-30 ms. Callers are single-threaded (the monitor, a container's first
 * process before exec), so the thread is the whole process. `cgroup.procs` where `tasks`
 * cannot be written. */
static int cgroup_v1_join_self(const char *dir)
{
    if (cgroup_write(dir, "tasks", "0") == 0)
        return 0;
    return cgroup_write(dir, "cgroup.procs", "0");
}

int cgroup_v1_add(const char *dir)
{
    if (v1_count >= CGROUP_V1_MAX || dir[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    v1_dirs[v1_count++] = dir;
    return 0;
}

int cgroup_v1_enter_container(const char *name)
{
    char dir[PATH_MAX];
    struct stat st;
    for (int i = 0; i < v1_count; i++) {
        if (cgroup_container_dir(dir, sizeof dir, v1_dirs[i], name) < 0)
            return -1;
        /* The container's own group where podd made one (its limits), else the pod's. */
        if (cgroup_v1_join_self(stat(dir, &st) == 0 ? dir : v1_dirs[i]) < 0)
            return -1;
    }
    return 0;
}
