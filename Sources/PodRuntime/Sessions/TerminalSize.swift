import Glibc

/// A terminal's size in characters, as a client sends it on an exec or attach session's
/// resize channel.
public struct TerminalSize: Sendable, Equatable {
    public var width: UInt16
    public var height: UInt16

    public init(width: UInt16, height: UInt16) {
        self.width = width
        self.height = height
    }

    /// Sets the size of the terminal whose master is `fd` (TIOCSWINSZ): the process in it
    /// gets SIGWINCH.
    public func apply(toTerminal fd: Int32) {
        var size = winsize(ws_row: height, ws_col: width, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, UInt(TIOCSWINSZ), &size)
    }
}
