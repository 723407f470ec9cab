"""A classic BPF evaluator for seccomp programs, written apart from podd-monitor's (tests read
the program a monitor installs and ask it what it decides for a system call)."""
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_BIT = 0x40000000

SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_ALLOW = 0x7FFF0000


def errno(n):
    return 0x00050000 | n


def load(path):
    data = open(path, "rb").read()
    assert len(data) % 8 == 0, f"{path}: {len(data)} bytes is not a whole program"
    return [struct.unpack_from("<HBBI", data, i) for i in range(0, len(data), 8)]


def decide(program, nr, arch, arg0=0):
    """The action PROGRAM returns for system call NR of ARCH with first argument ARG0."""
    data = struct.pack("<IIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    a = x = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == 0x20:
            a = struct.unpack_from("<I", data, k)[0]
        elif code == 0x00:
            a = k
        elif code == 0x60:
            a = mem[k]
        elif code == 0x02:
            mem[k] = a
        elif code == 0x54:
            a &= k
        elif code == 0x05:
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):
            taken = {0x15: a == k, 0x25: a > k, 0x35: a >= k, 0x45: (a & k) != 0}[code]
            pc += jt if taken else jf
        elif code == 0x06:
            return k
        elif code == 0x16:
            return a
        else:
            raise ValueError(f"instruction {code:#x} at {pc - 1}")
