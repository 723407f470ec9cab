import Glibc
import PodOS

/// The files of one run of a container's log, oldest first. The monitor writes
/// `DIR/RUN.log` and rotates it by renaming it to `RUN.log.YYYYMMDD-HHMMSS.ffffff` (UTC, so
/// that the names sort in the order they were made), keeping a bounded number of files:
/// a reader takes the rotated ones in name order, then the live one.
public enum ContainerLogFiles {
    /// The rotated files of the log whose live file is `path`, oldest first, then `path`
    /// itself when it exists.
    public static func list(_ path: String) -> [String] {
        let directory = FileSystem.parent(path)
        let name = String(path.dropFirst(directory.count + 1))
        let rotated = FileSystem.listDirectory(directory)
            .filter { $0.hasPrefix(name + ".") && !$0.hasSuffix(".tmp") }
            .sorted()
            .map { directory + "/" + $0 }
        return rotated + (FileSystem.exists(path) ? [path] : [])
    }

    /// Where to start reading for the last `count` lines of a log made of `files` (oldest
    /// first): the file's index and the byte offset in it. The files are scanned backwards
    /// from their ends for newlines, so a tail of a large log reads only its last blocks.
    /// A line is one CRI record ending a log line (tag F); the partial records (tag P) that
    /// lead up to it belong to the same line.
    /// `files` are open descriptors (-1 for one that vanished), so that the offset found is
    /// in the very file that is read next, whatever the monitor renames meanwhile.
    public static func tailStart(_ files: [Int32], lines count: Int) -> (file: Int, offset: Int) {
        var fullLines = 0
        for index in files.indices.reversed() where files[index] >= 0 {
            if let offset = scanBackwards(files[index], count: count, seen: &fullLines) { return (index, offset) }
        }
        return (0, 0)
    }

    /// Walks the lines of one file from its end; returns the offset just after the line that
    /// makes `count + 1` full lines with those `seen` in later files, or nil (and `seen`
    /// updated) when this file does not hold that many.
    private static func scanBackwards(_ fd: Int32, count: Int, seen: inout Int) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        var end = Int(st.st_size)
        var block = [UInt8](repeating: 0, count: 64 << 10)
        // The newline ending the line being looked at (nil: none found yet; bytes after the
        // file's last newline are an unfinished record and do not count).
        var terminator: Int?
        while end > 0 {
            let start = max(0, end - block.count)
            let length = end - start
            let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(start)) }
            guard n == length else { return nil }
            var i = length - 1
            while i >= 0 {
                if block[i] == UInt8(ascii: "\n") {
                    let newline = start + i
                    if let lineEnd = terminator, endsLogLine(fd, lineStart: newline + 1) {
                        seen += 1
                        if seen > count { return lineEnd + 1 }
                    }
                    terminator = newline
                }
                i -= 1
            }
            end = start
        }
        // The file's first line.
        if let lineEnd = terminator, endsLogLine(fd, lineStart: 0) {
            seen += 1
            if seen > count { return lineEnd + 1 }
        }
        return nil
    }

    /// Whether the CRI record starting at `lineStart` ends a log line (its tag is not P).
    private static func endsLogLine(_ fd: Int32, lineStart: Int) -> Bool {
        var head = [UInt8](repeating: 0, count: 96)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(lineStart)) }
        guard n > 0 else { return true }
        let fields = head[0..<n].split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return true }
        return !fields[2].elementsEqual([UInt8(ascii: "P")])
    }
}
