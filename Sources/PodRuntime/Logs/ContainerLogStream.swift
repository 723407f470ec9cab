import Glibc
import PodModel
import PodOS

/// A container's log as `podctl logs` prints it, read from the CRI files on disk a block at
/// a time: the caller pulls the next chunk when it has sent the previous one, so a reader
/// costs podd one block of memory whatever the size of the log and however slow the client
/// (issue 9: a whole 52 MB log was once read into memory per request).
///
/// The log of a run may span rotated files (`ContainerLogFiles`); `tailLines` seeks from
/// the end; `since` filters by each line's time. Following, the stream waits at the end of
/// the live file for more, reopens the live path when the monitor has rotated the file
/// under it, and ends once the run has ended and its last bytes are out.
public actor ContainerLogStream {
    /// How many bytes are read from disk at a time.
    public static let blockSize = 64 << 10

    private let path: String
    private var files: [String]
    private var fileIndex: Int
    private var fd: Int32 = -1
    /// The identity of the open file (device, inode), to notice that the live path now
    /// names another file (rotation).
    private var openedFile: (dev: UInt64, ino: UInt64)?
    private var options: CRILogOptions
    private let follow: Bool
    /// Whether the run this log belongs to goes on (more may be written to the live file).
    private let isLive: @Sendable () async -> Bool
    private let reactor: Reactor
    private var carry: [UInt8] = []
    private var pending = ""
    private var pendingTime: Substring?
    private var bytesLeft: Int?
    private var block: [UInt8]
    private var watcher: FileChangeWatcher?
    /// How long to wait at the end of the live file before looking again (grows while
    /// nothing is written, see `waitForMore`).
    private var wait = 0.002
    private var finished = false
    /// Where the first read starts in the first file (the file opens on the first `next`).
    private var startOffset: Int?

    /// A stream of the log whose live file is `path` (it may not exist yet when rotated
    /// files do). nil when the run has no log at all.
    public init?(path: String, options: CRILogOptions, follow: Bool, reactor: Reactor,
                 isLive: @escaping @Sendable () async -> Bool) {
        let files = ContainerLogFiles.list(path)
        guard !files.isEmpty else { return nil }
        self.path = path
        self.files = files
        self.options = options
        self.follow = follow
        self.isLive = isLive
        self.reactor = reactor
        self.bytesLeft = follow ? nil : options.limitBytes
        self.block = [UInt8](repeating: 0, count: Self.blockSize)
        var start = (file: 0, offset: 0)
        if let tail = options.tailLines { start = ContainerLogFiles.tailStart(files, lines: tail) }
        self.fileIndex = start.file
        // Only the first read honours the tail: lines written later all count.
        self.options.tailLines = nil
        if !follow { self.options.limitBytes = nil }
        startOffset = start.offset
    }

    deinit {
        if fd >= 0 { close(fd) }
        // Closing an inotify instance waits for an SRCU grace period (milliseconds): not
        // on a thread of the cooperative pool.
        if let watcher { DetachedThread.run { withExtendedLifetime(watcher) {} } }
    }

    /// The next chunk of rendered log text, or nil at the end (of the files, or with follow
    /// of the run). Never more than about `blockSize` bytes at a time.
    public func next() async -> [UInt8]? {
        if let offset = startOffset {
            startOffset = nil
            openFile(at: offset)
        }
        while !finished && !Task.isCancelled {
            if let left = bytesLeft, left <= 0 { break }
            let n = readBlock()
            if n > 0 {
                wait = 0.002
                if let chunk = render(count: n) { return chunk }
                // Blocks whose lines are all filtered out (since, stream): let others run.
                await Task.yield()
                continue
            }
            // At the end of a file: an older one goes on with the next; the live one may
            // have been rotated under the reader, or grow while the run goes on.
            if fileIndex + 1 < files.count {
                fileIndex += 1
                _ = openFile(at: 0)
                continue
            }
            guard follow else { break }
            if liveFileReplaced() {
                files.append(path)
                fileIndex = files.count - 1
                _ = openFile(at: 0)
                continue
            }
            if !(await isLive()) {
                // One last look: the monitor drains the pipes before it reports the exit.
                let n = readBlock()
                if n > 0 {
                    if let chunk = render(count: n) { return chunk }
                    continue
                }
                if liveFileReplaced() { continue }
                break
            }
            await waitForMore()
        }
        finished = true
        return nil
    }

    // MARK: - Reading

    /// Reads the next block of the open file into `block`; the byte count (0 at its end).
    private func readBlock() -> Int {
        guard fd >= 0 else { return 0 }
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            return max(0, n)
        }
    }

    private func render(count: Int) -> [UInt8]? {
        carry += block[0..<count]
        let (lines, consumed) = CRILog.parse(carry, stream: options.stream)
        carry.removeFirst(consumed)
        let text = CRILog.render(lines, options: options, pending: &pending, pendingTime: &pendingTime)
        guard !text.isEmpty else { return nil }
        var out = Array(text.joined().utf8)
        if let left = bytesLeft {
            if out.count > left { out.removeLast(out.count - left) }
            bytesLeft = left - out.count
        }
        return out
    }

    @discardableResult
    private func openFile(at offset: Int) -> Bool {
        if fd >= 0 { close(fd) }
        fd = -1
        openedFile = nil
        watcher = nil
        guard fileIndex < files.count else { return false }
        fd = open(files[fileIndex], O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        var st = stat()
        if fstat(fd, &st) == 0 { openedFile = (UInt64(st.st_dev), UInt64(st.st_ino)) }
        if offset > 0 { lseek(fd, off_t(offset), SEEK_SET) }
        return true
    }

    /// Whether the live path now names another file than the one open (the monitor renamed
    /// the open one away and started a new one): read to the end of the open one first.
    private func liveFileReplaced() -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        guard let opened = openedFile else { return fd < 0 }
        return opened.dev != UInt64(st.st_dev) || opened.ino != UInt64(st.st_ino)
    }

    /// Waits for the live file to change. Short sleeps at first and after any change (the
    /// monitor closes the log as the run ends, just before it reports the exit, and a run
    /// may end before the follow begins), growing to a second while nothing happens, then
    /// woken by inotify; so a follow ends within milliseconds of its run, and a rotation is
    /// seen within a second.
    private func waitForMore() async {
        if wait < 0.1 {
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
            wait *= 4
            return
        }
        let started = RuntimeClock.monotonic()
        if watcher == nil { watcher = FileChangeWatcher(path: path, reactor: reactor) }
        await watcher?.waitForChange(timeout: wait)
        wait = RuntimeClock.monotonic() - started < wait * 0.9 ? 0.002 : min(1.0, wait * 4)
    }
}
