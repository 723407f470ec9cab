import Glibc

/// Go's words for errors, where podd repeats messages kubelet (in Go) writes.
enum GoErrorText {
    /// A syscall.Errno as Go prints it: glibc's strerror text with a lower-case first letter
    /// ("connection refused", "no route to host").
    static func errno(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
