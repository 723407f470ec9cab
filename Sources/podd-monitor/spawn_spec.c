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

/* The lower layers: absolute paths, top first, joined by ':' (overlay's own separator). */
static int valid_lowers(const char *list)
{
    for (const char *p = list;; p++) {
        if (*p != '/')
            return 0;
        size_t n = strcspn(p, ":");
        if (n == 0 || strcspn(p, ",\\") < n)
            return 0;
        p += n;
        if (*p == '\0')
            return 1;
    }
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

/* A decimal ID (uid or gid) up to 2^32 - 2 ((uid_t)-1 means "unchanged" to the kernel). */
static int parse_id(const char *v, unsigned long long *out)
{
    char *end;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return v[0] >= '0' && v[0] <= '9' && *end == '\0' && errno == 0 && *out < 0xffffffffULL ? 0 : -1;
}

static int parse_flag(const char *v, int *flag)
{
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        return -1;
    *flag = v[0] == '1';
    return 0;
}

/* The securityContext keys (spawn_spec.h); any other key is refused as unknown. */
/* Append V to the growing list LIST of COUNT strings. */
static int append(const char ***list, size_t *count, const char *v)
{
    const char **grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    grown[(*count)++] = v;
    *list = grown;
    return 0;
}

int security_spec_key(struct security_spec *spec, const char *k, const char *v, char *err, size_t errlen)
{
    unsigned long long n;

    if (strcmp(k, "user") == 0 || strcmp(k, "group") == 0) {
        if (parse_id(v, &n) < 0)
            return fail(err, errlen, "user and group take a numeric ID, not ", v);
        if (k[0] == 'u')
            spec->uid = (uid_t)n;
        else
            spec->gid = (gid_t)n;
    } else if (strcmp(k, "groups") == 0) {
        size_t count = v[0] == '\0' ? 0 : 1;
        for (const char *p = v; *p != '\0'; p++)
            count += *p == ',';
        free(spec->groups);
        spec->groups = calloc(count ? count : 1, sizeof *spec->groups);
        if (spec->groups == NULL)
            return fail(err, errlen, "out of memory", NULL);
        spec->group_count = 0;
        for (const char *p = v; count > 0;) {
            char id[24];
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= sizeof id)
                return fail(err, errlen, "groups takes numeric IDs separated by ',', not ", v);
            memcpy(id, p, len);
            id[len] = '\0';
            if (parse_id(id, &n) < 0)
                return fail(err, errlen, "groups takes numeric IDs separated by ',', not ", v);
            spec->groups[spec->group_count++] = (gid_t)n;
            p += len;
            if (*p == '\0')
                break;
            p++;
        }
        if (spec->group_count > 65536)
            return fail(err, errlen, "too many groups (the kernel allows 65536)", NULL);
    } else if (strcmp(k, "caps") == 0) {
        char *end;
        errno = 0;
        spec->caps = strtoull(v, &end, 10);
        if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0)
            return fail(err, errlen, "caps takes a decimal bit mask, not ", v);
        spec->caps_given = 1;
    } else if (strcmp(k, "privileged") == 0 || strcmp(k, "noNewPrivs") == 0 || strcmp(k, "readOnlyRoot") == 0) {
        int *flag = k[0] == 'p' ? &spec->privileged : k[0] == 'n' ? &spec->no_new_privs : &spec->readonly_root;
        if (parse_flag(v, flag) < 0)
            return fail(err, errlen, "privileged, noNewPrivs and readOnlyRoot take 0 or 1, not ", v);
    } else if (strcmp(k, "oomScoreAdj") == 0) {
        char *end;
        long n;
        errno = 0;
        n = strtol(v, &end, 10);
        if (v[0] == '\0' || *end != '\0' || errno != 0 || n < -1000 || n > 1000)
            return fail(err, errlen, "oomScoreAdj takes a number from -1000 to 1000, not ", v);
        spec->oom_score_adj = (int)n;
        spec->oom_score_adj_given = 1;
    } else if (strcmp(k, "procMount") == 0) {
        if (strcmp(v, "default") != 0 && strcmp(v, "unmasked") != 0)
            return fail(err, errlen, "procMount must be default or unmasked, not ", v);
        spec->proc_unmasked = v[0] == 'u';
    } else if (strcmp(k, "seccomp") == 0) {
        if (strcmp(v, "runtime-default") == 0)
            spec->seccomp.mode = SECCOMP_RUNTIME_DEFAULT;
        else if (strcmp(v, "unconfined") == 0)
            spec->seccomp.mode = SECCOMP_UNCONFINED;
        else if (strcmp(v, "profile") == 0)
            spec->seccomp.mode = SECCOMP_PROFILE;
        else
            return fail(err, errlen, "seccomp must be runtime-default, unconfined or profile, not ", v);
    } else if (strcmp(k, "seccomp.default") == 0) {
        if (!seccomp_action_valid(v))
            return fail(err, errlen, "seccomp.default: unknown action ", v);
        spec->seccomp.default_action = v;
    } else if (strcmp(k, "seccomp.arch") == 0) {
        if (append(&spec->seccomp.archs, &spec->seccomp.arch_count, v) < 0)
            return fail(err, errlen, "out of memory", NULL);
    } else if (strcmp(k, "seccomp.rule") == 0) {
        if (!seccomp_rule_valid(v))
            return fail(err, errlen, "seccomp.rule is not ACTION NAME [INDEX:OP:VALUE[:VALUE2]]...: ", v);
        if (append(&spec->seccomp.rules, &spec->seccomp.rule_count, v) < 0)
            return fail(err, errlen, "out of memory", NULL);
    } else {
        return 0;
    }
    return 1;
}

/* "memory.max=1048576" into FILE and VALUE, in place. FILE must name a control file of one
 * of the limit controllers, with nothing that could leave the group's directory; VALUE is
 * digits, lower-case letters and spaces ("max 100000"). 0, or -1 if it is not that. */
static int parse_cgroup_setting(const char *text, struct cgroup_setting *out)
{
    static const char *const controllers[] = {"memory.", "cpu.", "pids.", "hugetlb."};
    const char *eq = strchr(text, '=');
    int known = 0;

    if (eq == NULL || eq == text || eq[1] == '\0' || eq - text > 64)
        return -1;
    for (const char *c = text; c < eq; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '_'))
            return -1;
    for (const char *c = eq + 1; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == ' '))
            return -1;
    for (size_t i = 0; i < sizeof controllers / sizeof *controllers; i++)
        known |= strncmp(text, controllers[i], strlen(controllers[i])) == 0;
    if (!known || strstr(text, "..") != NULL)
        return -1;
    /* The message buffer is ours: cut FILE at the '='. */
    *(char *)eq = '\0';
    out->file = text;
    out->value = eq + 1;
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
        } else if (strcmp(k, "after") == 0) {
            if (!valid_name(v))
                return reject(spec, err, errlen, "after must name a container (a DNS-1123 label), not ", v);
            spec->after = v;
        } else if (strcmp(k, "pidns") == 0) {
            if (strcmp(v, "pod") == 0) {
                spec->pidns = PIDNS_POD;
            } else if (strcmp(v, "host") == 0) {
                spec->pidns = PIDNS_HOST;
            } else if (strcmp(v, "own") == 0) {
                spec->pidns = PIDNS_OWN;
            } else if (strncmp(v, "container:", 10) == 0 && valid_name(v + 10)) {
                spec->pidns = PIDNS_CONTAINER;
                spec->pidns_target = v + 10;
            } else {
                return reject(spec, err, errlen, "pidns must be pod, own, host or container:NAME, not ", v);
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
        } else if (strcmp(k, "cgroup.set") == 0) {
            if (spec->cgroup_set_count == MAX_CGROUP_SETS)
                return reject(spec, err, errlen, "too many cgroup.set keys (at most 16): ", v);
            if (parse_cgroup_setting(v, &spec->cgroup_sets[spec->cgroup_set_count]) < 0)
                return reject(spec, err, errlen, "cgroup.set is not FILE=VALUE with FILE a memory., cpu., pids. or hugetlb. control file: ", v);
            spec->cgroup_set_count++;
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
        } else if (strcmp(k, "stdin") == 0 || strcmp(k, "stdinOnce") == 0 || strcmp(k, "tty") == 0 ||
                   strcmp(k, "hold") == 0) {
            int *flag = k[0] == 't' ? &spec->tty : k[0] == 'h' ? &spec->hold
                        : strcmp(k, "stdin") == 0 ? &spec->stdin_open : &spec->stdin_once;
            if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
                return reject(spec, err, errlen, "stdin, stdinOnce, tty and hold take 0 or 1, not ", v);
            *flag = v[0] == '1';
        } else if (strcmp(k, "devices") == 0) {
            /* The device allowlist program passed with the spawn: taken before the spawn is
             * read (pod_handle_message), nothing of the container's own. */
            if (strcmp(v, "1") != 0)
                return reject(spec, err, errlen, "devices takes 1, not ", v);
        } else {
            int known = security_spec_key(&spec->security, k, v, err, errlen);
            if (known < 0) {
                spawn_spec_free(spec);
                return -1; /* security_spec_key said why */
            }
            if (known == 0)
                return reject(spec, err, errlen, "unknown key ", k);
        }
    }

    if (spec->name == NULL || !valid_name(spec->name))
        return reject(spec, err, errlen, "name missing or not a DNS-1123 label", NULL);
    if (spec->after != NULL && (!spec->hold || strcmp(spec->after, spec->name) == 0))
        return reject(spec, err, errlen, "after=NAME needs hold=1 and another container's name", NULL);
    if (spec->lower == NULL || spec->upper == NULL || spec->work == NULL || spec->merged == NULL)
        return reject(spec, err, errlen, "rootfs.lower, rootfs.upper, rootfs.work and rootfs.merged are required", NULL);
    if (!valid_lowers(spec->lower) || !valid_layer(spec->upper) || !valid_layer(spec->work) ||
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
    security_spec_free(&spec->security);
    spec->argv = spec->envp = NULL;
    spec->mounts = NULL;
}

void security_spec_free(struct security_spec *s)
{
    free(s->groups);
    free(s->seccomp.rules);
    free(s->seccomp.archs);
    s->groups = NULL;
    s->seccomp.rules = s->seccomp.archs = NULL;
}
