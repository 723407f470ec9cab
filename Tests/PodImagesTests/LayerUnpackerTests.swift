import CImageCodecs
import Glibc
import Testing

@testable import PodImages

/// The tar reader and the layer unpacker against tars written here byte by byte: what each
/// member becomes, and every escape refused.
@Suite struct LayerUnpackerTests {
    /// One ustar header block (plus content, padded) as tar writes it.
    static func member(_ name: String, type: Character = "0", content: [UInt8] = [], link: String = "", mode: Int = 0o644,
                       uid: Int = 0) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            for (i, b) in text.utf8.prefix(length).enumerated() { header[offset + i] = b }
        }
        func octal(_ value: Int, _ offset: Int, _ length: Int) {
            put(String(String(value, radix: 8).reversed()).padding(toLength: length - 1, withPad: "0", startingAt: 0).reversed() + "", offset, length - 1)
        }
        put(name, 0, 100)
        octal(mode, 100, 8)
        octal(uid, 108, 8)
        octal(uid, 116, 8)
        octal(content.count, 124, 12)
        octal(1_700_000_000, 136, 12)
        header[156] = type.asciiValue ?? 0x30
        put(link, 157, 100)
        put("ustar\0", 257, 6)
        put("00", 263, 2)
        for i in 148..<156 { header[i] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        octal(sum, 148, 7)
        var out = header + content
        out += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
        return out
    }

    static func archive(_ members: [[UInt8]]) -> [UInt8] { members.flatMap { $0 } + [UInt8](repeating: 0, count: 1024) }

    /// Unpacks `tar` into a fresh directory; returns the directory and the result (or error).
    static func unpack(_ tar: [UInt8]) -> (String, Result<LayerUnpacker.Result, ImageStoreError>) {
        var template = Array("/tmp/podd-unpack-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { buffer -> String in
            guard let base = buffer.baseAddress, let made = mkdtemp(base) else { return "/tmp/podd-unpack-failed" }
            return String(cString: made)
        }
        let blob = dir + ".tar"
        let fd = open(blob, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = tar.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(blob) }
        do throws(ImageStoreError) {
            return (dir, .success(try LayerUnpacker.unpack(blobPath: blob, compression: .none, into: dir, what: "test layer")))
        } catch {
            return (dir, .failure(error))
        }
    }

    static func kind(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    @Test func filesDirectoriesLinksAndTheDiffID() throws {
        let tar = Self.archive([Self.member("./", type: "5", mode: 0o755), Self.member("./bin/", type: "5", mode: 0o755),
                                Self.member("./bin/tool", content: Array("#!/bin/sh\n".utf8), mode: 0o4755),
                                Self.member("./bin/alias", type: "2", link: "/bin/tool"),
                                Self.member("./bin/hard", type: "1", link: "./bin/tool"),
                                Self.member("./pipe", type: "6", mode: 0o600),
                                Self.member("./dev/sda", type: "4")])
        let (dir, result) = Self.unpack(tar)
        defer { try? TreeRemoval.remove(dir) }
        let unpacked = try result.get()
        #expect(unpacked.diffID == Digest.sha256(of: tar))
        #expect(unpacked.size == Int64(tar.count))
        #expect(unpacked.skippedDevices == 1)
        var st = stat()
        #expect(stat(dir + "/bin/tool", &st) == 0 && st.st_mode & 0o7777 == 0o4755 && st.st_nlink == 2)
        #expect(Self.kind(dir + "/bin/alias") == S_IFLNK)
        #expect(Self.kind(dir + "/pipe") == S_IFIFO)
        #expect(Self.kind(dir + "/dev/sda") == nil)
    }

    @Test func whiteoutsBecomeOverlayWhiteouts() throws {
        let tar = Self.archive([Self.member("etc/", type: "5"), Self.member("etc/.wh.gone"), Self.member("var/.wh..wh..opq")])
        let (dir, result) = Self.unpack(tar)
        defer { try? TreeRemoval.remove(dir) }
        _ = try result.get()
        var st = stat()
        #expect(lstat(dir + "/etc/gone", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0)
        #expect(Self.kind(dir + "/etc/.wh.gone") == nil)
        var value = [UInt8](repeating: 0, count: 4)
        #expect(pod_getxattr(dir + "/var", "trusted.overlay.opaque", &value, 4) == 1 && value[0] == UInt8(ascii: "y"))
    }

    @Test(arguments: [
        ("../escape", "\"..\""),
        ("a/../../escape", "\"..\""),
    ])
    func dotDotIsRefused(_ name: String, _ words: String) {
        let (dir, result) = Self.unpack(Self.archive([Self.member(name, content: [1])]))
        defer { try? TreeRemoval.remove(dir) }
        guard case let .failure(error) = result else { Issue.record("\(name) was unpacked"); return }
        #expect(error.kind == .invalidInput && error.message.contains(words))
    }

    @Test func writingThroughASymlinkIsRefused() {
        let target = "/tmp/podd-unpack-escape-\(getpid())"
        let tar = Self.archive([Self.member("evil", type: "2", link: "/tmp"),
                                Self.member("evil/podd-unpack-escape-\(getpid())", content: [1])])
        let (dir, result) = Self.unpack(tar)
        defer { try? TreeRemoval.remove(dir) }
        guard case let .failure(error) = result else { Issue.record("written through a symlink"); return }
        #expect(error.message.contains("symlink"))
        #expect(Self.kind(target) == nil)
    }

    @Test func hardlinkOutsideTheLayerIsRefused() {
        let (dir, result) = Self.unpack(Self.archive([Self.member("passwd", type: "1", link: "/etc/passwd")]))
        defer { try? TreeRemoval.remove(dir) }
        guard case let .failure(error) = result else { Issue.record("linked to the host's /etc/passwd"); return }
        #expect(error.message.contains("not in the layer"))
    }

    @Test func absolutePathsAreMadeRelative() throws {
        let (dir, result) = Self.unpack(Self.archive([Self.member("/abs/file", content: Array("x".utf8))]))
        defer { try? TreeRemoval.remove(dir) }
        _ = try result.get()
        #expect(Self.kind(dir + "/abs/file") == S_IFREG)
    }

    @Test func truncatedAndDamagedArchivesAreRefused() {
        let whole = Self.archive([Self.member("file", content: [UInt8](repeating: 7, count: 3000))])
        let (dir1, truncated) = Self.unpack(Array(whole.prefix(1500)))
        defer { try? TreeRemoval.remove(dir1) }
        if case let .failure(error) = truncated { #expect(error.message.contains("truncated")) } else { Issue.record("truncated accepted") }
        var damaged = whole
        damaged[10] ^= 0xff
        let (dir2, bad) = Self.unpack(damaged)
        defer { try? TreeRemoval.remove(dir2) }
        if case let .failure(error) = bad { #expect(error.message.contains("checksum")) } else { Issue.record("damaged accepted") }
    }

    @Test func paxAndGNULongNames() throws {
        let long = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 130)
        let pax = Array("\(long.utf8.count + 8 + String(long.utf8.count + 8).count) path=\(long)\n".utf8)
        // The PAX record's length counts itself: fix it up until it is right.
        var record = pax
        for _ in 0..<3 {
            let body = " path=\(long)\n"
            let length = body.utf8.count + String(record.count).count
            record = Array("\(length)\(body)".utf8)
        }
        let gnuName = String(repeating: "g", count: 150)
        let tar = Self.archive([Self.member("pax", type: "x", content: record), Self.member("short", content: [1]),
                                Self.member("././@LongLink", type: "L", content: Array(gnuName.utf8) + [0]), Self.member("x", content: [2])])
        let (dir, result) = Self.unpack(tar)
        defer { try? TreeRemoval.remove(dir) }
        _ = try result.get()
        #expect(Self.kind(dir + "/" + long) == S_IFREG)
        #expect(Self.kind(dir + "/" + gnuName) == S_IFREG)
    }
}
