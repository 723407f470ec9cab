/* seccomp_table.h - a seccomp filter as a table, compiled to a short program.
 *
 * libseccomp compiles a filter one comparison per system call and architecture: containerd's
 * RuntimeDefault is 1,237 instructions for x86_64, x32 and i386, and the kernel converts and
 * JIT-compiles every instruction of it at every seccomp(2), that is in every container start
 * and every exec (0.6 ms of a 3.5 ms exec round trip on this host). Most allowed calls have
 * neighbouring numbers, so the same decisions fit in a binary search over ranges of numbers:
 * a few hundred instructions. This file builds that search from a table (number -> action, or
 * a condition on the first argument) and evaluates classic BPF, so that the caller can check
 * the short program against libseccomp's, decision by decision, before using it.
 */
#ifndef PODD_MONITOR_SECCOMP_TABLE_H
#define PODD_MONITOR_SECCOMP_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

/* What a call decides. RETURN: `action` for any arguments. The others: `action` when the
 * first argument passes, the architecture's default when it does not. */
enum seccomp_decision_kind {
    SECCOMP_RETURN = 0,
    SECCOMP_ARG0_NOT_EQUAL, /* arg0 != values[0] */
    SECCOMP_ARG0_IN,        /* arg0 is one of values[0..value_count) */
    SECCOMP_ARG0_MASK_CLEAR /* (arg0 & values[0]) == 0 */
};

#define SECCOMP_TABLE_MAX_VALUES 8

struct seccomp_decision {
    enum seccomp_decision_kind kind;
    uint32_t action;
    /* The argument is 64 bits (both halves compared), else 32 (the low half only, as
     * libseccomp compares the arguments of a 32-bit ABI: i386, x32). */
    int wide;
    uint64_t values[SECCOMP_TABLE_MAX_VALUES];
    unsigned value_count;
};

struct seccomp_table_entry {
    uint32_t nr;
    struct seccomp_decision decision;
};

/* One architecture's calls (x32's numbers, with their 0x40000000 bit, beside x86_64's:
 * both come as AUDIT_ARCH_X86_64): ENTRIES in any order (the compiler sorts them), each
 * number once; every other number gets DEFAULT_ACTION. */
struct seccomp_arch_table {
    uint32_t audit_arch;
    uint32_t default_action;
    struct seccomp_table_entry *entries;
    size_t count;
};

/* Compiles ARCHS (an unknown architecture gets BAD_ARCH_ACTION) into a program of at most
 * BPF_MAXINSNS instructions, malloc'd into *OUT and *LEN. -1 if it would not fit or on
 * ENOMEM. */
int seccomp_table_compile(struct seccomp_arch_table *archs, size_t arch_count, uint32_t bad_arch_action,
                          struct sock_filter **out, unsigned short *len);

/* Whether programs A and B decide alike for every architecture in AUDIT_ARCHS (and for some
 * that are not), every number below 1100 and from 0x40000000 (x32) up to 1100 above it, the
 * edges of the number space, and first arguments chosen to hit every condition's edges.
 * 0: alike; 1: a difference; -1: a program uses an instruction the evaluator does not know
 * or jumps out of itself (treated as a difference by a careful caller). */
int seccomp_programs_agree(const struct sock_filter *a, unsigned short a_len, const struct sock_filter *b,
                           unsigned short b_len, const uint32_t *audit_archs, size_t arch_count,
                           const uint64_t *arg_probes, size_t probe_count);

#endif
