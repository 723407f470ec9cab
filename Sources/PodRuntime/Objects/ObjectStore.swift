import Glibc
import PodModel
import PodOS

/// The stored API objects besides pods on disk:
/// `STATE/configdata/{configmaps,secrets,poddisruptionbudgets,serviceaccounts}/NAMESPACE/NAME.json`, each
/// written with write-fsync-rename before the API answers, mode 0600 (a Secret's data is only
/// base64, not encrypted), in directories of mode 0700.
public struct ObjectStore: Sendable {
    public let root: String

    public init(root: String) throws(OSError) {
        self.root = root
        for kind in ObjectRegistry.kinds.map({ $0.resource }) { try FileSystem.makeDirectories(root + "/" + kind, mode: 0o700) }
    }

    /// `STATE/configdata/RESOURCE/NAMESPACE/NAME.json`, or for a cluster-scoped kind (namespace
    /// "") `STATE/configdata/RESOURCE/NAME.json`.
    func path(_ resource: String, namespace: String, name: String) -> String {
        namespace.isEmpty ? "\(root)/\(resource)/\(name).json" : "\(root)/\(resource)/\(namespace)/\(name).json"
    }

    public func save<T: StoredObject>(_ object: T) throws(OSError) {
        let path = path(T.resource, namespace: object.metadata.namespace, name: object.metadata.name)
        try FileSystem.makeDirectories(FileSystem.parent(path), mode: 0o700)
        try FileSystem.writeAtomically(path, object.json.serialized(), mode: 0o600)
    }

    public func remove<T: StoredObject>(_ type: T.Type, namespace: String, name: String) throws(OSError) {
        let path = path(T.resource, namespace: namespace, name: name)
        guard unlink(path) == 0 || errno == ENOENT else { throw OSError.last("unlink(\(path))") }
        try? FileSystem.syncDirectory(of: path)
    }

    /// Every stored object of kind `T`; entries that cannot be read are reported by path
    /// (never with their contents), and left on disk.
    public func loadAll<T: StoredObject>(_ type: T.Type) -> (objects: [T], errors: [String]) {
        var objects: [T] = []
        var errors: [String] = []
        let base = root + "/" + T.resource
        for namespace in T.namespaced ? FileSystem.listDirectory(base) : [""] {
            let directory = namespace.isEmpty ? base : base + "/" + namespace
            for file in FileSystem.listDirectory(directory) {
                let path = directory + "/" + file
                if file.hasSuffix(".tmp") {
                    // A write that did not finish: never acknowledged.
                    unlink(path)
                    continue
                }
                guard file.hasSuffix(".json") else { continue }
                do {
                    let json = try JSONValue.parse(try FileSystem.read(path))
                    objects.append(try ObjectManifest.decode(json, as: T.self, defaultNamespace: namespace))
                } catch {
                    errors.append("stored \(T.kind) \(path) is unreadable; left on disk")
                }
            }
        }
        return (objects, errors)
    }
}
