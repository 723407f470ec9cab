import PodModel

extension ResourceArguments.Resource {
    /// The API's plural name, which is also its path segment ("configmaps").
    var plural: String {
        switch self {
        case .pods: return "pods"
        case .events: return "events"
        case .configMaps: return "configmaps"
        case .secrets: return "secrets"
        case .podDisruptionBudgets: return "poddisruptionbudgets"
        case .priorityClasses: return "priorityclasses"
        case .serviceAccounts: return "serviceaccounts"
        }
    }

    /// The kind its objects carry ("ConfigMap").
    var kind: String {
        switch self {
        case .pods: return "Pod"
        case .events: return "Event"
        case .configMaps: return "ConfigMap"
        case .secrets: return "Secret"
        case .podDisruptionBudgets: return "PodDisruptionBudget"
        case .priorityClasses: return "PriorityClass"
        case .serviceAccounts: return "ServiceAccount"
        }
    }

    /// The apiVersion its objects carry.
    var apiVersion: String {
        switch self {
        case .podDisruptionBudgets: return "policy/v1"
        case .priorityClasses: return "scheduling.k8s.io/v1"
        default: return "v1"
        }
    }

    /// How `-o name` and apply name an object of it: `configmap/NAME`, and with the group
    /// outside the core one, `poddisruptionbudget.policy/NAME`, as kubectl does.
    var singular: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return kind.lowercased() }
        return kind.lowercased() + "." + apiVersion[..<slash]
    }

    /// Whether its objects live in a namespace (a PriorityClass does not).
    var namespaced: Bool { self != .priorityClasses }

    /// The resource of a manifest's kind, for the kinds podd serves.
    static func of(kind: String) -> Self? {
        switch kind {
        case "Pod": return .pods
        case "ConfigMap": return .configMaps
        case "Secret": return .secrets
        case "PodDisruptionBudget": return .podDisruptionBudgets
        case "PriorityClass": return .priorityClasses
        case "ServiceAccount": return .serviceAccounts
        default: return nil
        }
    }

    /// The collection's path (nil namespace: all namespaces).
    func path(namespace: String?) -> String {
        switch self {
        case .pods: return PoddClient.podsPath(namespace: namespace)
        case .events: return PoddClient.eventsPath(namespace: namespace)
        case .configMaps, .secrets, .podDisruptionBudgets, .priorityClasses, .serviceAccounts:
            let base = apiVersion == "v1" ? "/api/v1" : "/apis/" + apiVersion
            guard let namespace, namespaced else { return "\(base)/\(plural)" }
            return "\(base)/namespaces/\(PoddClient.pathSegment(namespace))/\(plural)"
        }
    }

    func path(namespace: String, name: String) -> String { path(namespace: namespace) + "/" + PoddClient.pathSegment(name) }
}

/// kubectl's table rows of ConfigMaps (NAME DATA AGE) and Secrets (NAME TYPE DATA AGE).
enum ConfigDataRow {
    static func headers(_ resource: ResourceArguments.Resource, withNamespace: Bool) -> [String] {
        (withNamespace ? ["NAMESPACE"] : []) + (resource == .secrets ? ["NAME", "TYPE", "DATA", "AGE"] : ["NAME", "DATA", "AGE"])
    }

    static func cells(_ object: JSONValue, resource: ResourceArguments.Resource, withNamespace: Bool, now: Double) -> [String] {
        let metadata = object["metadata"]
        let count = (object["data"].objectValue?.count ?? 0) + (object["binaryData"].objectValue?.count ?? 0)
        let age = Clock.age(since: metadata["creationTimestamp"].string, now: now)
        var cells = withNamespace ? [metadata["namespace"].string] : []
        cells.append(metadata["name"].string)
        if resource == .secrets { cells.append(object["type"].string) }
        return cells + [String(count), age]
    }
}
