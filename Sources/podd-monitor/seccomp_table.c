/* seccomp_table.c - see seccomp_table.h. */
#define _GNU_SOURCE
#include "seccomp_table.h"

#include <stdlib.h>
#include <string.h>

#include <linux/seccomp.h>

/* Offsets in struct seccomp_data (little-endian: an argument's low half comes first). */
#define DATA_NR 0
#define DATA_ARCH 4
#define DATA_ARG0_LOW 16
#define DATA_ARG0_HIGH 20

/* Where a branch of a jump goes when it is a plain return: to the entry for ACTION of the
 * return pool that ends the jump's chunk (emit_chunk), resolved once the chunk's length is
 * known. */
struct pool_target {
    uint8_t jt_pooled, jf_pooled;
    uint32_t jt_action, jf_action;
};

/* A growing program. Parts are built apart and appended, so that every jump's distance is
 * known when it is written (classic BPF jumps only forward). */
struct code {
    struct sock_filter *insns;
    struct pool_target *targets;
    size_t len, cap;
    int failed;
};

static void put_pooled(struct code *c, uint16_t op, uint8_t jt, uint8_t jf, uint32_t k, struct pool_target target)
{
    if (c->failed)
        return;
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct sock_filter *grown = realloc(c->insns, cap * sizeof *grown);
        struct pool_target *targets = grown ? realloc(c->targets, cap * sizeof *targets) : NULL;
        if (grown != NULL)
            c->insns = grown;
        if (targets == NULL) {
            c->failed = 1;
            return;
        }
        c->targets = targets;
        c->cap = cap;
    }
    c->targets[c->len] = target;
    c->insns[c->len++] = (struct sock_filter)BPF_JUMP(op, k, jt, jf);
}

static void put(struct code *c, uint16_t op, uint8_t jt, uint8_t jf, uint32_t k)
{
    put_pooled(c, op, jt, jf, k, (struct pool_target){0});
}

static void release(struct code *c)
{
    free(c->insns);
    free(c->targets);
    memset(c, 0, sizeof *c);
}

static void append(struct code *c, struct code *part)
{
    if (part->failed)
        c->failed = 1;
    for (size_t i = 0; i < part->len && !c->failed; i++)
        put_pooled(c, part->insns[i].code, part->insns[i].jt, part->insns[i].jf, part->insns[i].k, part->targets[i]);
    release(part);
}

/* "if A OP K, go on; else skip SKIP instructions", with SKIP of any size (a jump's own
 * offsets are 8 bits: a longer skip goes through a JA, whose offset is 32). */
static void unless_skip(struct code *c, uint16_t op, uint32_t k, size_t skip)
{
    if (skip <= 255) {
        put(c, BPF_JMP | op | BPF_K, 0, (uint8_t)skip, k);
    } else {
        put(c, BPF_JMP | op | BPF_K, 1, 0, k);
        put(c, BPF_JMP | BPF_JA, 0, 0, (uint32_t)skip);
    }
}

static void ret(struct code *c, uint32_t action) { put(c, BPF_RET | BPF_K, 0, 0, action); }

/* A call's decision. The accumulator holds the call's number and is free to lose it: every
 * path ends in a return. */
static void emit_decision(struct code *c, const struct seccomp_decision *d, uint32_t otherwise)
{
    int wide = d->wide;

    switch (d->kind) {
    case SECCOMP_RETURN:
        ret(c, d->action);
        return;
    case SECCOMP_ARG0_NOT_EQUAL:
        /* Passes unless both halves equal the value's. */
        put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG0_LOW);
        put(c, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, (uint32_t)d->values[0]);
        ret(c, d->action);
        if (wide) {
            put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG0_HIGH);
            put(c, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, (uint32_t)(d->values[0] >> 32));
            ret(c, d->action);
        }
        ret(c, otherwise);
        return;
    case SECCOMP_ARG0_IN:
        /* The values are compared as a zero high half and their low halves: a value with a
         * high half of its own would need a comparison per value, which no table here has. */
        for (unsigned i = 0; i < d->value_count; i++)
            if (wide && (d->values[i] >> 32) != 0)
                c->failed = 1;
        if (wide) {
            put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG0_HIGH);
            put(c, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
            ret(c, otherwise);
        }
        put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG0_LOW);
        for (unsigned i = 0; i < d->value_count; i++)
            put(c, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(d->value_count - i), 0, (uint32_t)d->values[i]);
        ret(c, otherwise);
        ret(c, d->action);
        return;
    case SECCOMP_ARG0_MASK_CLEAR:
        if (wide && (d->values[0] >> 32) != 0) {
            put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG0_HIGH);
            put(c, BPF_JMP | BPF_JSET | BPF_K, 0, 1, (uint32_t)(d->values[0] >> 32));
            ret(c, otherwise);
        }
        put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARG0_LOW);
        put(c, BPF_JMP | BPF_JSET | BPF_K, 0, 1, (uint32_t)d->values[0]);
        ret(c, otherwise);
        ret(c, d->action);
        return;
    }
    c->failed = 1;
}

/* A run of numbers [start, next segment's start) decided alike. */
struct segment {
    uint32_t start;
    const struct seccomp_decision *decision; /* NULL: the default action */
};

static int same_decision(const struct seccomp_decision *a, const struct seccomp_decision *b, uint32_t def)
{
    uint32_t a_action = a ? a->action : def, b_action = b ? b->action : def;
    int a_plain = a == NULL || a->kind == SECCOMP_RETURN, b_plain = b == NULL || b->kind == SECCOMP_RETURN;
    return a_plain && b_plain && a_action == b_action;
}

/* Whether SEG's numbers return one action whatever the arguments; the action in *ACTION. */
static int plain(const struct segment *seg, const struct seccomp_arch_table *t, uint32_t *action)
{
    if (seg->decision != NULL && seg->decision->kind != SECCOMP_RETURN)
        return 0;
    *action = seg->decision ? seg->decision->action : t->default_action;
    return 1;
}

static void emit_search(struct code *c, const struct segment *segs, size_t n, const struct seccomp_arch_table *t);

/* The search over SEGS[0..n), n >= 2, with its plain returns left to the chunk's pool: a
 * comparison whose branch is a plain run jumps straight to that action's return, so the
 * search costs about one instruction per run instead of two. A jump over more than 255
 * instructions fails the chunk. */
static void emit_pooled(struct code *c, const struct segment *segs, size_t n, const struct seccomp_arch_table *t)
{
    size_t mid = n / 2;
    struct code low = {0};
    struct pool_target target = {0};
    int low_plain = mid == 1 && plain(&segs[0], t, &target.jf_action);
    int high_plain = n - mid == 1 && plain(&segs[mid], t, &target.jt_action);

    if (!low_plain) {
        if (mid == 1)
            emit_decision(&low, segs[0].decision, t->default_action);
        else
            emit_pooled(&low, segs, mid, t);
    }
    if (low.len > 255) {
        release(&low);
        c->failed = 1;
        return;
    }
    target.jf_pooled = (uint8_t)low_plain;
    target.jt_pooled = (uint8_t)high_plain;
    /* number >= the middle run's start: the high half (after the low half's code). */
    put_pooled(c, BPF_JMP | BPF_JGE | BPF_K, high_plain ? 0 : (uint8_t)low.len, 0, segs[mid].start, target);
    append(c, &low);
    if (!high_plain) {
        if (n - mid == 1)
            emit_decision(c, segs[mid].decision, t->default_action);
        else
            emit_pooled(c, segs + mid, n - mid, t);
    }
}

/* SEGS[0..n) as one chunk: its search, then one return per action its branches jump to.
 * -1 (C untouched) if a jump would be too long. */
static int emit_chunk(struct code *c, const struct segment *segs, size_t n, const struct seccomp_arch_table *t)
{
    struct code body = {0};
    uint32_t pool[16];
    size_t pool_len = 0;

    emit_pooled(&body, segs, n, t);
    for (size_t i = 0; i < body.len && !body.failed; i++) {
        struct pool_target *target = &body.targets[i];
        for (int branch = 0; branch < 2; branch++) {
            uint8_t pooled = branch ? target->jf_pooled : target->jt_pooled;
            uint32_t action = branch ? target->jf_action : target->jt_action;
            size_t k, distance;
            if (!pooled)
                continue;
            for (k = 0; k < pool_len && pool[k] != action; k++)
                ;
            if (k == pool_len) {
                if (pool_len == sizeof pool / sizeof pool[0]) {
                    body.failed = 1;
                    break;
                }
                pool[pool_len++] = action;
            }
            distance = body.len - (i + 1) + k;
            if (distance > 255) {
                body.failed = 1;
                break;
            }
            if (branch)
                body.insns[i].jf = (uint8_t)distance;
            else
                body.insns[i].jt = (uint8_t)distance;
        }
        *target = (struct pool_target){0};
    }
    if (body.failed) {
        release(&body);
        return -1;
    }
    for (size_t k = 0; k < pool_len; k++)
        ret(&body, pool[k]);
    append(c, &body);
    return 0;
}

/* A binary search over SEGS[0..n): "number >= the middle start" picks a half. As one chunk
 * if its jumps reach its pool, else split in two. */
static void emit_search(struct code *c, const struct segment *segs, size_t n, const struct seccomp_arch_table *t)
{
    struct code low = {0};
    size_t mid;

    if (n == 1) {
        if (segs[0].decision == NULL)
            ret(c, t->default_action);
        else
            emit_decision(c, segs[0].decision, t->default_action);
        return;
    }
    if (emit_chunk(c, segs, n, t) == 0)
        return;
    mid = n / 2;
    emit_search(&low, segs, mid, t);
    /* number >= start: skip the low half. Written as "unless number < start": JGE's true
     * branch is the far one. */
    if (low.len <= 255) {
        put(c, BPF_JMP | BPF_JGE | BPF_K, (uint8_t)low.len, 0, segs[mid].start);
    } else {
        put(c, BPF_JMP | BPF_JGE | BPF_K, 0, 1, segs[mid].start);
        put(c, BPF_JMP | BPF_JA, 0, 0, (uint32_t)low.len);
    }
    append(c, &low);
    emit_search(c, segs + mid, n - mid, t);
}

static int by_number(const void *a, const void *b)
{
    uint32_t x = ((const struct seccomp_table_entry *)a)->nr, y = ((const struct seccomp_table_entry *)b)->nr;
    return x < y ? -1 : x > y;
}

/* One architecture's search, its number loaded first. */
static void emit_arch(struct code *c, struct seccomp_arch_table *t)
{
    struct segment *segs = malloc((2 * t->count + 1) * sizeof *segs);
    size_t n = 0;

    if (segs == NULL) {
        c->failed = 1;
        return;
    }
    qsort(t->entries, t->count, sizeof *t->entries, by_number);
    /* Each entry's number gets a segment of its own, followed by a default one; the merge
     * below joins neighbours that decide alike. */
    segs[n++] = (struct segment){0, NULL};
    for (size_t i = 0; i < t->count; i++) {
        const struct seccomp_table_entry *e = &t->entries[i];
        if (i > 0 && e->nr == t->entries[i - 1].nr) {
            c->failed = 1; /* a number twice: the table is wrong */
            break;
        }
        if (segs[n - 1].start == e->nr)
            segs[n - 1].decision = &e->decision;
        else
            segs[n++] = (struct segment){e->nr, &e->decision};
        if (e->nr != UINT32_MAX)
            segs[n++] = (struct segment){e->nr + 1, NULL};
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && same_decision(segs[m - 1].decision, segs[i].decision, t->default_action))
            continue;
        segs[m++] = segs[i];
    }
    put(c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_NR);
    if (!c->failed)
        emit_search(c, segs, m, t);
    free(segs);
}

int seccomp_table_compile(struct seccomp_arch_table *archs, size_t arch_count, uint32_t bad_arch_action,
                          struct sock_filter **out, unsigned short *len)
{
    struct code c = {0};

    put(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0, DATA_ARCH);
    for (size_t i = 0; i < arch_count; i++) {
        struct code block = {0};
        emit_arch(&block, &archs[i]);
        if (block.failed) {
            c.failed = 1;
            release(&block);
            break;
        }
        /* The architecture's block, else on to the next comparison (the accumulator still
         * holds the architecture: blocks only return). */
        unless_skip(&c, BPF_JEQ, archs[i].audit_arch, block.len);
        append(&c, &block);
    }
    ret(&c, bad_arch_action);
    if (c.failed || c.len > BPF_MAXINSNS) {
        release(&c);
        return -1;
    }
    free(c.targets);
    *out = c.insns;
    *len = (unsigned short)c.len;
    return 0;
}

/* --- evaluation ------------------------------------------------------------------------- */

struct probe {
    uint32_t nr, arch;
    uint64_t arg0;
};

static uint32_t word_at(const struct probe *p, uint32_t offset, int *bad, int *read_args)
{
    if (offset >= 8)
        *read_args = 1;
    switch (offset) {
    case DATA_NR:
        return p->nr;
    case DATA_ARCH:
        return p->arch;
    case DATA_ARG0_LOW:
        return (uint32_t)p->arg0;
    case DATA_ARG0_HIGH:
        return (uint32_t)(p->arg0 >> 32);
    default:
        /* The instruction pointer and the other arguments are zero in every probe. */
        if (offset >= 8 && offset < 64 && offset % 4 == 0)
            return 0;
        *bad = 1;
        return 0;
    }
}

/* The action PROG returns for P, as the kernel's classic BPF would; -1 for an instruction
 * seccomp filters do not use here, a jump out of the program, or no return. *READ_ARGS is
 * set if the path taken read anything past the number and architecture. */
static int64_t evaluate(const struct sock_filter *prog, unsigned short len, const struct probe *p, int *read_args)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    int bad = 0;

    for (size_t pc = 0; pc < len && !bad;) {
        const struct sock_filter *i = &prog[pc++];
        size_t skip = 0;
        switch (i->code) {
        case BPF_LD | BPF_W | BPF_ABS: a = word_at(p, i->k, &bad, read_args); break;
        case BPF_LD | BPF_IMM: a = i->k; break;
        case BPF_LDX | BPF_IMM: x = i->k; break;
        case BPF_LD | BPF_MEM: if (i->k >= BPF_MEMWORDS) return -1; a = mem[i->k]; break;
        case BPF_LDX | BPF_MEM: if (i->k >= BPF_MEMWORDS) return -1; x = mem[i->k]; break;
        case BPF_ST: if (i->k >= BPF_MEMWORDS) return -1; mem[i->k] = a; break;
        case BPF_STX: if (i->k >= BPF_MEMWORDS) return -1; mem[i->k] = x; break;
        case BPF_ALU | BPF_AND | BPF_K: a &= i->k; break;
        case BPF_ALU | BPF_OR | BPF_K: a |= i->k; break;
        case BPF_MISC | BPF_TAX: x = a; break;
        case BPF_MISC | BPF_TXA: a = x; break;
        case BPF_JMP | BPF_JA: skip = i->k; break;
        case BPF_JMP | BPF_JEQ | BPF_K: skip = a == i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGT | BPF_K: skip = a > i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGE | BPF_K: skip = a >= i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JSET | BPF_K: skip = (a & i->k) ? i->jt : i->jf; break;
        case BPF_RET | BPF_K: return i->k;
        case BPF_RET | BPF_A: return a;
        default: return -1;
        }
        if (skip >= len - pc)
            return -1;
        pc += skip;
    }
    return -1;
}

static int agree_on(const struct sock_filter *a, unsigned short a_len, const struct sock_filter *b,
                    unsigned short b_len, const struct probe *p, int *read_args)
{
    int64_t x = evaluate(a, a_len, p, read_args), y = evaluate(b, b_len, p, read_args);
    if (x < 0 || y < 0)
        return -1;
    return x == y ? 0 : 1;
}

int seccomp_programs_agree(const struct sock_filter *a, unsigned short a_len, const struct sock_filter *b,
                           unsigned short b_len, const uint32_t *audit_archs, size_t arch_count,
                           const uint64_t *arg_probes, size_t probe_count)
{
    static const uint32_t edges[] = {0x3fffffff, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000,
                                     0xfffffffe, 0xffffffff};
    /* Listed architectures, plus none and one not listed (aarch64). */
    for (size_t ai = 0; ai < arch_count + 2; ai++) {
        uint32_t arch = ai < arch_count ? audit_archs[ai] : ai == arch_count ? 0 : 0xc00000b7;
        for (size_t ni = 0; ni < 2 * 1100 + sizeof edges / sizeof edges[0]; ni++) {
            uint32_t nr = ni < 1100 ? (uint32_t)ni : ni < 2200 ? 0x40000000u + (uint32_t)(ni - 1100) : edges[ni - 2200];
            /* Neither program looking past the number and architecture for the first probe,
             * no argument can change their answers: the other probes are skipped. */
            int read_args = 0;
            for (size_t pi = 0; pi < probe_count && (pi == 0 || read_args); pi++) {
                struct probe p = {nr, arch, arg_probes[pi]};
                int rc = agree_on(a, a_len, b, b_len, &p, &read_args);
                if (rc != 0)
                    return rc;
            }
        }
    }
    return 0;
}
