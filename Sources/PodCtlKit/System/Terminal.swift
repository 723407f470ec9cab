import Glibc

/// The local terminal, for `-t`: raw mode while a remote shell owns it, and its size.
enum Terminal {
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

    /// Raw mode for a session with a terminal (`-t`): keys, Ctrl-C and Ctrl-D included, go to
    /// the remote side as typed. Restored on every way out: a normal end (`restoreSaved`),
    /// and SIGTERM, SIGHUP, SIGINT or SIGQUIT sent to podctl, whose handlers restore the
    /// terminal and exit 128+N. Window size changes are watched (SIGWINCH).
    static func enterRaw() {
        guard stdinIsTerminal, tcgetattr(0, &savedTerminal) == 0 else { return }
        for sig in [SIGTERM, SIGHUP, SIGINT, SIGQUIT] {
            signal(sig) { received in
                // Async-signal-safe: tcsetattr and _exit only.
                if terminalIsRaw != 0 { tcsetattr(0, TCSANOW, &savedTerminal) }
                _exit(128 + received)
            }
        }
        var raw = savedTerminal
        cfmakeraw(&raw)
        if tcsetattr(0, TCSANOW, &raw) == 0 { terminalIsRaw = 1 }
        watchTerminalResizes()
    }

    /// Puts the terminal back as it was before `enterRaw` (idempotent).
    static func restoreSaved() {
        guard terminalIsRaw != 0 else { return }
        tcsetattr(0, TCSANOW, &savedTerminal)
        terminalIsRaw = 0
    }
}

/// The terminal's settings before raw mode, for the signal handlers that restore them.
nonisolated(unsafe) private var savedTerminal = termios()
nonisolated(unsafe) private var terminalIsRaw: sig_atomic_t = 0

/// Set by the SIGWINCH handler, read by the session loop (whose poll the signal interrupts).
nonisolated(unsafe) var terminalResized: sig_atomic_t = 0

func watchTerminalResizes() {
    signal(SIGWINCH) { _ in terminalResized = 1 }
}
