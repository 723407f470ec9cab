import Glibc
import Testing
@testable import PodImages

/// Removing a name of an image, as `docker rmi` and `podman rmi` do: one of several names
/// just goes; the last one goes with the image, or keeps it, or is refused, as asked.
@Suite struct ImageUntagTests {
    /// A store holding one image, localhost/busybox:latest, in a directory of its own.
    static func store() throws -> (ImageStore, String) {
        var template = Array("/tmp/podd-untag-test-XXXXXX".utf8CString)
        let root = try #require(mkdtemp(&template).map { String(cString: $0) })
        let images = try ImageStore(root: root + "/images")
        mkdir(root + "/rootfs", 0o755)
        #expect(system("tar -C \(root)/rootfs -cf \(root)/images/.incoming/rootfs.tar .") == 0)
        _ = try images.importRootfs(tarPath: root + "/images/.incoming/rootfs.tar",
                                    name: try ImageName(parsing: "localhost/busybox"), now: "2026-01-01T00:00:00Z")
        return (images, root)
    }

    @Test func aNameOfSeveralJustGoesWhateverTheLastNamePolicy() throws {
        let (images, root) = try Self.store()
        defer { _ = system("rm -rf \(root)") }
        let busybox = try ImageName(parsing: "localhost/busybox:latest")
        let extra = try ImageName(parsing: "localhost/mytag:1")
        let id = try #require(images.resolve(busybox)).id
        try images.tag(id, as: extra)
        // A pod uses the image (refuse the last name): the extra name still just goes.
        #expect(try images.untag(extra, lastName: .refuse) == .name)
        #expect(images.resolve(extra) == nil && images.resolve(busybox)?.id == id)
        // Now busybox is the last name: refused, and nothing changes.
        #expect(try images.untag(busybox, lastName: .refuse) == .refusedLastName)
        #expect(images.resolve(busybox)?.id == id)
        // Forced while in use: the name goes, the image stays without one.
        try images.tag(id, as: extra)
        #expect(try images.untag(busybox, lastName: .keepImage) == .name)
        #expect(try images.untag(extra, lastName: .keepImage) == .name)
        #expect(images.list().map(\.id) == [id] && images.list()[0].names.isEmpty)
    }

    @Test func theLastNameTakesTheImageWhenNothingUsesIt() throws {
        let (images, root) = try Self.store()
        defer { _ = system("rm -rf \(root)") }
        let busybox = try ImageName(parsing: "localhost/busybox:latest")
        #expect(try images.untag(busybox, lastName: .removeImage) == .nameAndImage)
        #expect(images.list().isEmpty)
        #expect(throws: ImageStoreError.self) { try images.untag(busybox, lastName: .removeImage) }
    }
}
