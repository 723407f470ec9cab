import Glibc

// What the API's relay of an exec or attach session needs from the OS, so that it makes no
// system call itself.

extension StreamSession.IO {
    /// Closes a descriptor of a session that no relay took over (or once it is done).
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }
}

extension StreamSession.StartFailure {
    /// The exit status a shell gives a command it could not run: 127 not found, 126 not
    /// executable.
    public var shellExitStatus: Int32 { code == ENOENT ? 127 : 126 }
}
