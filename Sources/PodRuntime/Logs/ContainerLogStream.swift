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
    /// The files of the log opened when the read began, by index of `files` (-1: vanished
    /// before it could be opened): rotation renames and deletes files by name, so each is
    /// read through the descriptor taken then. Handed to `fd` as the read reaches it.
    private var opened: [Int32]
    /// Without follow, where the open file ends for this read: its size when it was opened
    /// (a live file goes on growing; what is written after the request is not part of it).
    private var readEnd: Int?
    /// The sizes of the `opened` files when the read began.
    private var sizes: [Int]
    private var position = 0
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
        // The list and the descriptors must agree: a rotation between listing the files and
        // opening them renames the live one away (then it is looked for again, a few times).
        var files: [String] = []
        var opened: [Int32] = []
        for _ in 0..<5 {
            files = ContainerLogFiles.list(path)
            opened = files.map { open($0, O_RDONLY | O_CLOEXEC) }
            if ContainerLogFiles.list(path) == files { break }
            opened.forEach { if $0 >= 0 { close($0) } }
            opened = []
        }
        if opened.isEmpty { opened = files.map { open($0, O_RDONLY | O_CLOEXEC) } }
        guard !files.isEmpty else {
            opened.forEach { if $0 >= 0 { close($0) } }
            return nil
        }
        self.path = path
        self.files = files
        self.options = options
        self.follow = follow
        self.isLive = isLive
        self.reactor = reactor
        self.bytesLeft = follow ? nil : options.limitBytes
        self.block = [UInt8](repeating: 0, count: Self.blockSize)
        self.opened = opened
        self.sizes = opened.map { descriptor in
            var st = stat()
            return descriptor >= 0 && fstat(descriptor, &st) == 0 ? Int(st.st_size) : 0
        }
        var start = (file: 0, offset: 0)
        if let tail = options.tailLines { start = ContainerLogFiles.tailStart(opened, lines: tail) }
        self.fileIndex = start.file
        // Only the first read honours the tail: lines written later all count.
        self.options.tailLines = nil
        if !follow { self.options.limitBytes = nil }
        startOffset = start.offset
    }

    deinit {
        if fd >= 0 { close(fd) }
        for descriptor in opened where descriptor >= 0 { close(descriptor) }
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
        let wanted = readEnd.map { min(block.count, max(0, $0 - position)) } ?? block.count
        guard wanted > 0 else { return 0 }
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, wanted) }
            if n < 0 && errno == EINTR { continue }
            position += max(0, n)
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
        readEnd = nil
        guard fileIndex < files.count else { return false }
        if fileIndex < opened.count {
            // Taken when the read began (see `opened`).
            fd = opened[fileIndex]
            opened[fileIndex] = -1
        } else {
            fd = open(files[fileIndex], O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else { return false }
        var st = stat()
        if fstat(fd, &st) == 0 {
            openedFile = (UInt64(st.st_dev), UInt64(st.st_ino))
            if !follow { readEnd = fileIndex < sizes.count ? sizes[fileIndex] : Int(st.st_size) }
        }
        position = offset
        lseek(fd, off_t(offset), SEEK_SET)
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
