/* devices.c - see devices.h.
 *
 * The program follows what runc (libcontainer/cgroups/devices/devicefilter.go) and crun
 * (src/libcrun/ebpf.c) generate, written here from the kernel's interface: the context is
 * struct bpf_cgroup_dev_ctx {access_type, major, minor}; access_type is
 * (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*; returning 1 allows the access, 0 denies it
 * (the caller gets EPERM). One block per rule, each jumping to the next rule on a mismatch.
 */
#define _GNU_SOURCE
#include "devices.h"
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ANY (-1)

struct device_rule {
    char type;      /* 'c', 'b' */
    int major, minor; /* ANY for a wildcard */
    const char *access; /* of "rwm" */
};

static const struct device_rule allowed[] = {
    {'c', ANY, ANY, "m"}, {'b', ANY, ANY, "m"},
    {'c', 1, 3, "rwm"},   /* null */
    {'c', 1, 5, "rwm"},   /* zero */
    {'c', 1, 7, "rwm"},   /* full */
    {'c', 1, 8, "rwm"},   /* random */
    {'c', 1, 9, "rwm"},   /* urandom */
    {'c', 5, 0, "rwm"},   /* tty */
    {'c', 5, 2, "rwm"},   /* ptmx */
    {'c', 136, ANY, "rwm"}, /* pts */
};
#define RULE_COUNT (sizeof allowed / sizeof allowed[0])

/* The few instruction shapes the program needs (linux/filter.h's macros are kernel-only). */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn i;
    memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV32_REG(dst, src) insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define AND32_IMM(dst, imm) insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH32_IMM(dst, imm) insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define MOV64_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int access_bits(const char *access)
{
    int bits = 0;
    for (const char *a = access; *a != '\0'; a++)
        bits |= *a == 'm' ? BPF_DEVCG_ACC_MKNOD : *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : 0;
    return bits;
}

/* r2 = device type, r3 = access, r4 = major, r5 = minor; then per rule:
 *     if type != T goto next; if major != M goto next; if minor != N goto next;
 *     r1 = access & ~allowed; if r1 != 0 goto next; r0 = 1; exit
 * and at the end r0 = 0; exit. */
static size_t build_program(struct bpf_insn *p, size_t max)
{
    size_t n = 0;

    if (max < 6 + RULE_COUNT * 8)
        return 0;
    p[n++] = LDX_W(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
    p[n++] = MOV32_REG(3, 2);
    p[n++] = AND32_IMM(2, 0xffff);
    p[n++] = RSH32_IMM(3, 16);
    p[n++] = LDX_W(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major));
    p[n++] = LDX_W(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor));
    for (size_t r = 0; r < RULE_COUNT; r++) {
        const struct device_rule *rule = &allowed[r];
        struct bpf_insn block[8];
        size_t len = 0;
        block[len++] = JNE_IMM(2, rule->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0);
        if (rule->major != ANY)
            block[len++] = JNE_IMM(4, rule->major, 0);
        if (rule->minor != ANY)
            block[len++] = JNE_IMM(5, rule->minor, 0);
        block[len++] = MOV32_REG(1, 3);
        block[len++] = AND32_IMM(1, ~access_bits(rule->access));
        block[len++] = JNE_IMM(1, 0, 0);
        block[len++] = MOV64_IMM(0, 1);
        block[len++] = EXIT();
        /* Every jump of the block goes to the first instruction after it. */
        for (size_t i = 0; i < len; i++)
            if (block[i].code == (BPF_JMP | BPF_JNE | BPF_K))
                block[i].off = (int16_t)(len - i - 1);
        memcpy(p + n, block, len * sizeof block[0]);
        n += len;
    }
    p[n++] = MOV64_IMM(0, 0);
    p[n++] = EXIT();
    return n;
}

/* The program's fd, and whether it came from podd (another monitor of podd's loaded it:
 * loading one runs the kernel's verifier, about 0.5 ms of CPU on every pod's start, and
 * the program is the same for every container) or has been offered to podd (once). One
 * initialised struct: the flags share the page the fd is on, not one more of .bss. */
static struct {
    int fd;
    int received;
    int offered;
} program = {.fd = -1};

static int bpf_load(const struct bpf_insn *prog, size_t n, char *log, size_t log_size)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t)"Apache-2.0";
    if (log != NULL) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        attr.log_level = 1;
    }
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
}

/* Apart (never inlined): its program buffer is on the stack only while it loads. */
static __attribute__((noinline)) int load_program(struct setup_error *e)
{
    struct bpf_insn prog[6 + RULE_COUNT * 8 + 2];
    size_t n = build_program(prog, sizeof prog / sizeof prog[0]);

    program.fd = bpf_load(prog, n, NULL, 0);
    if (program.fd < 0) {
        /* Again with the verifier's log, only to say why. */
        static char log[16384];
        int err = errno;
        log[0] = '\0';
        program.fd = bpf_load(prog, n, log, sizeof log);
        if (program.fd >= 0)
            goto loaded;
        return setup_fail(e, err, "devices", "load the device allowlist (BPF_PROG_LOAD): %s%s%.200s",
                          strerror(err), log[0] != '\0' ? ": " : "", log);
    }
loaded:
    /* BPF fds are not close-on-exec by default on every kernel: no container may get it. */
    fcntl(program.fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Set when the kernel refuses BPF to this monitor (EPERM: podd itself runs where bpf(2) is
 * not allowed, such as a systemd-nspawn container): containers then go without the program
 * and without CAP_MKNOD (devices_filtered), so /dev stays what the monitor made. */
static int bpf_refused;

int devices_filtered(const char *cgroup_dir, const char *devices_v1_dir)
{
    return (cgroup_dir != NULL && !bpf_refused) || devices_v1_dir != NULL;
}

void devices_use_program(int fd)
{
    if (program.fd >= 0 || bpf_refused) {
        close(fd);
        return;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    program.fd = fd;
    program.received = 1;
}

int devices_program_to_offer(void)
{
    if (program.fd < 0 || program.received || program.offered)
        return -1;
    program.offered = 1;
    return program.fd;
}

static int attach(int cg)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cg;
    attr.attach_bpf_fd = (uint32_t)program.fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = 0; /* no override: nothing below may loosen it */
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr);
}

int devices_attach_cgroup2(const char *dir, struct setup_error *e)
{
    int cg, rc, err;

    if (bpf_refused)
        return 0;
    if (program.fd < 0 && load_program(e) < 0) {
        if (e->err != EPERM)
            return -1;
        bpf_refused = 1;
        return 0;
    }
    cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0)
        return setup_fail(e, errno, "devices", "open %s: %s", dir, strerror(errno));
    rc = attach(cg);
    err = errno;
    if (rc < 0 && err != EPERM && program.received) {
        /* Not a program this kernel attaches as a device allowlist: load our own. */
        close(program.fd);
        program.fd = -1;
        program.received = 0;
        if (load_program(e) < 0) {
            close(cg);
            return -1;
        }
        rc = attach(cg);
        err = errno;
    }
    close(cg);
    if (rc < 0 && err == EPERM) {
        bpf_refused = 1;
        return 0;
    }
    if (rc < 0)
        return setup_fail(e, err, "devices", "attach the device allowlist to %s: %s", dir, strerror(err));
    return 0;
}

/* The mount point of the v1 hierarchy that has the devices controller, from mountinfo:
 * "... MOUNTPOINT ... - cgroup SOURCE rw,devices". */
static int find_v1_devices(char *buf, size_t size)
{
    char line[4096];
    FILE *f = fopen("/proc/self/mountinfo", "re");
    int found = -1;

    if (f == NULL)
        return -1;
    while (found < 0 && fgets(line, sizeof line, f) != NULL) {
        char *fields[5], *save = NULL, *dash = strstr(line, " - cgroup "), *opts;
        int i = 0;
        if (dash == NULL)
            continue;
        opts = strrchr(dash, ' ');
        if (opts == NULL || strstr(opts, "devices") == NULL)
            continue;
        *dash = '\0';
        for (char *t = strtok_r(line, " ", &save); t != NULL && i < 5; t = strtok_r(NULL, " ", &save))
            fields[i++] = t;
        if (i == 5 && snprintf(buf, size, "%s", fields[4]) < (int)size)
            found = 0;
    }
    fclose(f);
    if (found < 0)
        errno = ENOENT;
    return found;
}

int devices_v1_prepare(char *buf, size_t size, const char *pod_uid)
{
    char mount[PATH_MAX], parent[PATH_MAX], rule[64];

    if (find_v1_devices(mount, sizeof mount) < 0)
        return -1;
    if (snprintf(parent, sizeof parent, "%s/podd", mount) >= (int)sizeof parent ||
        snprintf(buf, size, "%s/%s", parent, pod_uid) >= (int)size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((mkdir(parent, 0755) < 0 && errno != EEXIST) || (mkdir(buf, 0755) < 0 && errno != EEXIST))
        return -1;
    if (cgroup_write(buf, "devices.deny", "a") < 0)
        return -1;
    for (size_t r = 0; r < RULE_COUNT; r++) {
        char major[16] = "*", minor[16] = "*";
        if (allowed[r].major != ANY)
            snprintf(major, sizeof major, "%d", allowed[r].major);
        if (allowed[r].minor != ANY)
            snprintf(minor, sizeof minor, "%d", allowed[r].minor);
        snprintf(rule, sizeof rule, "%c %s:%s %s", allowed[r].type, major, minor, allowed[r].access);
        if (cgroup_write(buf, "devices.allow", rule) < 0)
            return -1;
    }
    return 0;
}

int devices_v1_enter(const char *dir, struct setup_error *e)
{
    if (cgroup_write(dir, "cgroup.procs", "0") < 0)
        return setup_fail(e, errno, "devices", "join the devices cgroup %s: %s", dir, strerror(errno));
    return 0;
}

void devices_v1_remove(const char *dir)
{
    rmdir(dir);
}
