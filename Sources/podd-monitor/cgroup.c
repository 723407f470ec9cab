/* cgroup.c - see cgroup.h. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_control(const char *dir, const char *file, const char *value)
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

int cgroup_enter(const char *dir)
{
    /* "0" means the writing process itself, whatever PID namespace it is in. */
    return write_control(dir, "cgroup.procs", "0");
}

int cgroup_kill(const char *dir)
{
    return write_control(dir, "cgroup.kill", "1");
}

int cgroup_container_dir(char *buf, size_t size, const char *pod_dir, const char *name)
{
    if (snprintf(buf, size, "%s/%s", pod_dir, name) >= (int)size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}
