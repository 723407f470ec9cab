import Glibc

/// Reads cgroup control files for the metrics: each file into one buffer kept for good (no
/// allocation per read, no text made of it), its numbers parsed straight from the bytes, and
/// the file itself kept open between scrapes (up to `maxOpenFiles`): a cgroup file read again
/// at offset 0 is made afresh by the kernel, so a scrape costs one pread per file instead of
/// an open, a walk of a long cgroupfs path, a read and a close. A scrape of 100 pods reads
/// some 1000 such files: opening them, and reading each into a fresh 64 KiB array split into
/// strings, was most of its cost. A file of a group that has gone reads as an error (ENODEV):
/// it is closed and opened again (or found gone). `forget` closes the files of pods that
/// are gone. Used by one thread at a time (PodUsageSampler holds it in a Mutex).
public final class CgroupStatReader: @unchecked Sendable {
    private var buffer: UnsafeMutableRawBufferPointer
    /// Bytes of the last file read.
    private var count = 0
    /// Open files by pod (uid) and path; -1: the file was missing at `missingSince` (a
    /// container without a v1 group of its own has none of its files, at every scrape).
    private var files: [String: [String: Int32]] = [:]
    private var missingSince: [String: Double] = [:]
    private var openCount = 0
    /// How long a missing file is taken as missing before it is looked for again.
    static let missingFor = 10.0
    /// How many files may stay open (the rest are opened for each read).
    public let maxOpenFiles: Int

    public init(capacity: Int = 8 << 10, maxOpenFiles: Int = CgroupStatReader.defaultMaxOpenFiles) {
        buffer = .allocate(byteCount: capacity, alignment: 8)
        self.maxOpenFiles = maxOpenFiles
    }

    deinit {
        buffer.deallocate()
        for pod in files.values {
            for fd in pod.values where fd >= 0 { close(fd) }
        }
    }

    /// An eighth of the descriptors the process may open, at most 4096: the API's connections
    /// and the pods' monitors need the rest.
    public static var defaultMaxOpenFiles: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(min(limit.rlim_cur / 8, 4096))
    }

    /// Closes the files of pods not in `keep` (uids), as pods go.
    public func forget(keeping keep: Set<String>) {
        for (pod, open) in files where !keep.contains(pod) {
            for (path, fd) in open {
                if fd >= 0 {
                    close(fd)
                    openCount -= 1
                } else {
                    missingSince[path] = nil
                }
            }
            files[pod] = nil
        }
    }

    /// How many files are open now.
    public var openFiles: Int { openCount }

    /// Reads the whole file `name` of `directory` (a group of pod `pod`) into the buffer
    /// (grown for a larger one); false when it cannot be read.
    private func load(_ name: String, in directory: String, pod: String) -> Bool {
        let path = directory + "/" + name
        if let fd = files[pod]?[path] {
            if fd < 0 {
                guard let since = missingSince[path], Self.monotonic() - since >= Self.missingFor else { return false }
                files[pod]?[path] = nil
                missingSince[path] = nil
                return load(name, in: directory, pod: pod)
            }
            if readAll(fd) { return true }
            // The group went (ENODEV), or was made anew: open the path again.
            close(fd)
            files[pod]?[path] = nil
            openCount -= 1
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT && maxOpenFiles > 0 {
                files[pod, default: [:]][path] = -1
                missingSince[path] = Self.monotonic()
            }
            return false
        }
        guard readAll(fd) else {
            close(fd)
            return false
        }
        if openCount < maxOpenFiles {
            files[pod, default: [:]][path] = fd
            openCount += 1
        } else {
            close(fd)
        }
        return true
    }

    private static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func readAll(_ fd: Int32) -> Bool {
        count = 0
        while true {
            if count == buffer.count {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 8)
                larger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = larger
            }
            let n = pread(fd, buffer.baseAddress.map { $0 + count }, buffer.count - count, off_t(count))
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if n == 0 { return true }
            count += n
        }
    }

    /// The number the file `name` (a path relative to `directory`, a group of pod `pod`)
    /// starts with (after spaces), such as memory.current's.
    public func integer(_ name: String, in directory: String, pod: String) -> Int64? {
        guard load(name, in: directory, pod: pod) else { return nil }
        return Self.integer(in: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), from: 0)
    }

    /// The value of `key` in a flat-keyed file of "key value" lines (memory.stat, cpu.stat,
    /// memory.events, memory.oom_control); `name` is relative to `directory`.
    public func field(_ name: String, in directory: String, pod: String, _ key: StaticString) -> Int64? {
        guard load(name, in: directory, pod: pod) else { return nil }
        return loadedValue(of: key)
    }

    /// The values of several keys of one such file, read once; nil where the file cannot
    /// be read (each key's value is nil where the file lacks it).
    public func fields(_ name: String, in directory: String, pod: String, _ keys: [StaticString]) -> [Int64?]? {
        guard load(name, in: directory, pod: pod) else { return nil }
        return keys.map(loadedValue(of:))
    }

    /// The value of `key` in the file last loaded.
    private func loadedValue(of key: StaticString) -> Int64? {
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        let keyBytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let afterKey = lineStart + keyBytes.count
            if afterKey < lineEnd, bytes[afterKey] == 0x20 {
                var same = true
                var i = 0
                while same && i < keyBytes.count {
                    same = bytes[lineStart + i] == keyBytes[i]
                    i += 1
                }
                if same { return Self.integer(in: bytes, from: afterKey + 1) }
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// A decimal integer (optionally negative) at `start`, after spaces; nil when there is
    /// none or it does not fit.
    static func integer(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int64? {
        var i = start
        while i < bytes.count && bytes[i] == 0x20 { i += 1 }
        var negative = false
        if i < bytes.count && bytes[i] == 0x2D {
            negative = true
            i += 1
        }
        var value: Int64 = 0
        var digits = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(bytes[i] - 0x30))
            guard !o1 && !o2 else { return nil }
            value = sum
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }
}
