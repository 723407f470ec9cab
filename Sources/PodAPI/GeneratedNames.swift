import PodModel
import PodRuntime

/// A create whose object asks for a generated name (`generateName` without `name`), as the
/// API server does it for every kind: a name is drawn (`ObjectMeta.generatedName`) and, while
/// the one drawn is taken, drawn again, up to `attempts` times before the conflict is the
/// answer. An object with a name is created as it is, once.
enum GeneratedNames {
    /// How many names a create with `generateName` draws before answering 409.
    static let attempts = 8

    static func create<Created>(_ metadata: ObjectMeta,
                                _ create: (ObjectMeta) async throws(RuntimeError) -> Created) async throws(RuntimeError) -> Created {
        var metadata = metadata
        let generating = metadata.name.isEmpty
        var attempt = 1
        while true {
            if generating, let name = metadata.generatedName() { metadata.name = name }
            do {
                return try await create(metadata)
            } catch {
                guard case .alreadyExists = error, generating, attempt < attempts else { throw error }
                attempt += 1
            }
        }
    }
}
