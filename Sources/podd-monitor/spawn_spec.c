/* spawn_spec.c - see spawn_spec.h. */
#include "spawn_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

/* Report why a request is refused; the parse functions return its -1. */
static int fail(char *err, size_t errlen, const char *what, const char *detail)
{
    snprintf(err, errlen, "%s%s", what, detail ? detail : "");
    return -1;
}

/* Refuse the whole spec: free what parsing allocated so the caller has nothing to undo. */
static int reject(struct spawn_spec *spec, char *err, size_t errlen, const char *what,
                  const char *detail)
{
    spawn_spec_free(spec);
    return fail(err, errlen, what, detail);
}

/* A container name becomes a cgroup directory name, so it must be one safe path element. */
static int valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > CONTAINER_NAME_MAX || name[0] == '.')
        return 0;
    return strchr(name, '/') == NULL;
}

/* Overlay takes its layers as one "lowerdir=A,upperdir=B,workdir=C" string; ',' and ':'
 * would split it and '\' would escape, so such paths are refused rather than misread. */
static int valid_layer(const char *path)
{
    return path[0] == '/' && strpbrk(path, ",:\\") == NULL;
}

static int parse_mount_options(struct mount_spec *ms, const char *options, char *err,
                               size_t errlen)
{
    const char *p = options;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n == 2 && strncmp(p, "ro", 2) == 0) {
            ms->readonly = 1;
        } else if (n == 2 && strncmp(p, "rw", 2) == 0) {
            ms->readonly = 0;
        } else if (n > 5 && strncmp(p, "size=", 5) == 0 && ms->type == MOUNT_TMPFS) {
            char *end;
            errno = 0;
            ms->size = strtoull(p + 5, &end, 10);
            if (errno != 0 || end != p + n)
                return fail(err, errlen, "bad tmpfs size in mount.options: ", options);
        } else if (n > 0) {
            return fail(err, errlen, "unsupported mount.options: ", options);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int spawn_spec_parse(const struct msg *m, struct spawn_spec *spec, char *err, size_t errlen)
{
    size_t nargs = 0, nenv = 0, nmounts = 0;
    struct mount_spec *cur = NULL;

    memset(spec, 0, sizeof *spec);
    spec->log_max_files = 5; /* kubelet's containerLogMaxFiles default, if only a size is given */
    spec->cwd = "/";
    for (size_t i = 1; i < m->count; i++) {
        const char *k = m->fields[i].key;
        nargs += strcmp(k, "arg") == 0;
        nenv += strcmp(k, "env") == 0;
        nmounts += strcmp(k, "mount.type") == 0;
    }
    spec->argv = calloc(nargs + 1, sizeof *spec->argv);
    spec->envp = calloc(nenv + 1, sizeof *spec->envp);
    spec->mounts = calloc(nmounts ? nmounts : 1, sizeof *spec->mounts);
    if (spec->argv == NULL || spec->envp == NULL || spec->mounts == NULL)
        return reject(spec, err, errlen, "out of memory", NULL);
    nargs = nenv = 0;

    for (size_t i = 1; i < m->count; i++) {
        const char *k = m->fields[i].key, *v = m->fields[i].value;
        if (strcmp(k, "name") == 0) {
            spec->name = v;
        } else if (strcmp(k, "rootfs.lower") == 0) {
            spec->lower = v;
        } else if (strcmp(k, "rootfs.upper") == 0) {
            spec->upper = v;
        } else if (strcmp(k, "rootfs.work") == 0) {
            spec->work = v;
        } else if (strcmp(k, "rootfs.merged") == 0) {
            spec->merged = v;
        } else if (strcmp(k, "pidns") == 0) {
            if (strcmp(v, "pod") == 0) {
                spec->pidns = PIDNS_POD;
            } else if (strcmp(v, "own") == 0) {
                spec->pidns = PIDNS_OWN;
            } else if (strncmp(v, "container:", 10) == 0 && valid_name(v + 10)) {
                spec->pidns = PIDNS_CONTAINER;
                spec->pidns_target = v + 10;
            } else {
                return reject(spec, err, errlen, "pidns must be pod, own or container:NAME, not ", v);
            }
        } else if (strcmp(k, "mount.type") == 0) {
            cur = &spec->mounts[spec->mount_count++];
            if (strcmp(v, "bind") == 0) {
                cur->type = MOUNT_BIND;
            } else if (strcmp(v, "tmpfs") == 0) {
                cur->type = MOUNT_TMPFS;
            } else {
                return reject(spec, err, errlen, "mount.type must be bind or tmpfs, not ", v);
            }
        } else if (strncmp(k, "mount.", 6) == 0) {
            if (cur == NULL) {
                return reject(spec, err, errlen, k, " before any mount.type");
            }
            if (strcmp(k, "mount.source") == 0) {
                cur->source = v;
            } else if (strcmp(k, "mount.target") == 0) {
                cur->target = v;
            } else if (strcmp(k, "mount.subPath") == 0) {
                cur->subpath = v;
            } else if (strcmp(k, "mount.options") == 0) {
                if (parse_mount_options(cur, v, err, errlen) < 0) {
                    spawn_spec_free(spec);
                    return -1; /* parse_mount_options said why */
                }
            } else {
                return reject(spec, err, errlen, "unknown key ", k);
            }
        } else if (strcmp(k, "env") == 0) {
            if (strchr(v, '=') == NULL) {
                return reject(spec, err, errlen, "env is not KEY=VALUE: ", v);
            }
            spec->envp[nenv++] = (char *)v;
        } else if (strcmp(k, "arg") == 0) {
            spec->argv[nargs++] = (char *)v;
        } else if (strcmp(k, "cwd") == 0) {
            spec->cwd = v;
        } else if (strcmp(k, "log") == 0) {
            spec->log = v;
        } else if (strcmp(k, "log.maxSize") == 0 || strcmp(k, "log.maxFiles") == 0) {
            char *end;
            unsigned long long n;
            errno = 0;
            n = strtoull(v, &end, 10);
            if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0)
                return reject(spec, err, errlen, "log.maxSize and log.maxFiles take a number, not ", v);
            if (strcmp(k, "log.maxSize") == 0) {
                spec->log_max_size = n;
            } else {
                if (n < 2 || n > 1000)
                    return reject(spec, err, errlen, "log.maxFiles must be 2-1000, not ", v);
                spec->log_max_files = (int)n;
            }
        } else if (strcmp(k, "journal") == 0) {
            if (v[0] != '/')
                return reject(spec, err, errlen, "journal must be an absolute socket path: ", v);
        } else if (strcmp(k, "journal.field") == 0) {
            if (!journal_field_valid(v))
                return reject(spec, err, errlen, "journal.field is not KEY=VALUE (KEY of A-Z, 0-9, _; no newline): ", v);
        } else if (strcmp(k, "stdin") == 0 || strcmp(k, "stdinOnce") == 0 || strcmp(k, "tty") == 0) {
            int *flag = k[0] == 't' ? &spec->tty : strcmp(k, "stdin") == 0 ? &spec->stdin_open : &spec->stdin_once;
            if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
                return reject(spec, err, errlen, "stdin, stdinOnce and tty take 0 or 1, not ", v);
            *flag = v[0] == '1';
        } else {
            return reject(spec, err, errlen, "unknown key ", k);
        }
    }

    if (spec->name == NULL || !valid_name(spec->name))
        return reject(spec, err, errlen, "name missing or not a DNS-1123 label", NULL);
    if (spec->lower == NULL || spec->upper == NULL || spec->work == NULL || spec->merged == NULL)
        return reject(spec, err, errlen, "rootfs.lower, rootfs.upper, rootfs.work and rootfs.merged are required", NULL);
    if (!valid_layer(spec->lower) || !valid_layer(spec->upper) || !valid_layer(spec->work) ||
        spec->merged[0] != '/')
        return reject(spec, err, errlen, "rootfs paths must be absolute and free of ',' ':' '\\'", NULL);
    if (nargs == 0 || spec->argv[0][0] == '\0')
        return reject(spec, err, errlen, "no arg: the command is required", NULL);
    if (spec->cwd[0] != '/')
        return reject(spec, err, errlen, "cwd must be absolute: ", spec->cwd);
    if (spec->log != NULL && spec->log[0] != '/')
        return reject(spec, err, errlen, "log must be absolute: ", spec->log);
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct mount_spec *ms = &spec->mounts[i];
        if (ms->target == NULL || ms->target[0] != '/' || ms->target[strspn(ms->target, "/")] == '\0')
            return reject(spec, err, errlen, "mount.target must be an absolute path other than /", NULL);
        if (ms->type == MOUNT_BIND && (ms->source == NULL || ms->source[0] != '/'))
            return reject(spec, err, errlen, "bind mount needs an absolute mount.source for ", ms->target);
    }
    return 0;
}

void spawn_spec_free(struct spawn_spec *spec)
{
    free(spec->argv);
    free(spec->envp);
    free(spec->mounts);
    spec->argv = spec->envp = NULL;
    spec->mounts = NULL;
}
