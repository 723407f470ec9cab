// podd-pull-bench: `make bench`'s registry pull, through RegistryFetcher alone (the store and
// its pull route are not involved): `podd-pull-bench REF LAYOUT_DIR [INSECURE_HOST:PORT ...]`
// pulls REF for this machine's platform into a new OCI layout at LAYOUT_DIR and prints the
// manifest digest. scripts/bench_registry.py times it against skopeo and podman.
import Glibc
import PodImages

/// Writes a line to stderr (write(2): stdio's stderr is shared mutable state to Swift 6).
func complain(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    complain("usage: podd-pull-bench REF LAYOUT_DIR [INSECURE_HOST:PORT ...]")
    exit(2)
}
do {
    let name = try ImageName(parsing: arguments[1])
    let layout = try OCILayout.create(at: arguments[2])
    let fetcher = RegistryFetcher(settings: RegistrySettings(authFile: "/nonexistent", insecure: Array(arguments.dropFirst(3))))
    let image = try await fetcher.fetch(name, platform: .host, into: layout, alreadyStored: { _ in false }, progress: { _ in })
    print(image.manifestDigest)
} catch {
    complain("podd-pull-bench: \(error)")
    exit(1)
}
