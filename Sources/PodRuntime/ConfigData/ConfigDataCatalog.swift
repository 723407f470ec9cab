import PodModel
import Synchronization

/// The ConfigMaps and Secrets podd holds, readable at once from any thread: pod controllers
/// look up what a container's env and volumes refer to while they start it, without a hop to
/// the registry's actor. Only `ObjectRegistry` writes it, before it announces a change.
public final class ConfigDataCatalog: Sendable {
    private struct Contents {
        var configMaps: [String: ConfigMap] = [:]
        var secrets: [String: Secret] = [:]
    }

    private let contents = Mutex(Contents())

    public init() {}

    public func configMap(namespace: String, name: String) -> ConfigMap? {
        contents.withLock { $0.configMaps["\(namespace)/\(name)"] }
    }

    public func secret(namespace: String, name: String) -> Secret? {
        contents.withLock { $0.secrets["\(namespace)/\(name)"] }
    }

    /// Sets (or with nil, removes) one object.
    func set<T: ConfigDataObject>(_ type: T.Type, key: String, _ object: T?) {
        contents.withLock { c in
            if T.self == ConfigMap.self { c.configMaps[key] = object as? ConfigMap }
            if T.self == Secret.self { c.secrets[key] = object as? Secret }
        }
    }
}
