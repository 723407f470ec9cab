import Glibc

/// The local terminal, for `-t`: raw mode while a remote shell owns it, and its size.
struct Terminal {
    private var saved = termios()
    private var isRaw = false

    static var stdinIsTerminal: Bool { isatty(0) == 1 }

    /// The size of the terminal on stdout (else stdin), if there is one.
    static func size() -> (width: Int, height: Int)? {
        for fd: Int32 in [1, 0, 2] {
            var size = winsize()
            if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
                return (Int(size.ws_col), Int(size.ws_row))
            }
        }
        return nil
    }

    /// Puts stdin in raw mode: keys, Ctrl-C included, go to the remote side as typed.
    mutating func makeRaw() {
        guard Self.stdinIsTerminal, tcgetattr(0, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        if tcsetattr(0, TCSANOW, &raw) == 0 { isRaw = true }
    }

    mutating func restore() {
        guard isRaw else { return }
        tcsetattr(0, TCSANOW, &saved)
        isRaw = false
    }
}

/// Set by the SIGWINCH handler, read by the session loop (whose poll the signal interrupts).
nonisolated(unsafe) var terminalResized: sig_atomic_t = 0

func watchTerminalResizes() {
    signal(SIGWINCH) { _ in terminalResized = 1 }
}
