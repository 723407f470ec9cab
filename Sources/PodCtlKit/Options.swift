import ArgumentParser
import Glibc

/// Options every command that talks to podd takes.
public struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("socket"),
        help: ArgumentHelp("Path of podd's API socket (default: $PODD_SOCKET, else /run/podd/podd.sock).", valueName: "path")
    )
    public var socket: String?

    public init() {}

    /// The socket to use: --socket, else $PODD_SOCKET, else the default.
    public var socketPath: String { Self.socketPath(socket) }

    var client: PoddClient { PoddClient(socketPath: socketPath) }

    /// The client for `socket` (else $PODD_SOCKET, else the default), for the commands read
    /// without ArgumentParser (exec, debug): making a ConnectionOptions would build its
    /// @Option's names, whose first Set scans every protocol conformance of podctl (about a
    /// tenth of podctl's start-up).
    static func client(socket: String?) -> PoddClient {
        PoddClient(socketPath: socketPath(socket))
    }

    private static func socketPath(_ socket: String?) -> String {
        if let socket, !socket.isEmpty { return socket }
        if let variable = getenv("PODD_SOCKET"), variable.pointee != 0 { return String(cString: variable) }
        return "/run/podd/podd.sock"
    }
}

/// `-n/--namespace`, for the commands that work on namespaced objects.
public struct NamespaceOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("The namespace to use (default: default).", valueName: "namespace"))
    public var namespace: String?

    public init() {}

    public var namespaceOrDefault: String { namespace ?? "default" }
}

/// The `-o/--output` formats of get (no `-o`: a table).
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case wide
    case json
    case yaml
    case name
}

/// A resource type and names as kubectl takes them: `pods NAME...`, `pod/NAME...`.
struct ResourceArguments {
    enum Resource: Equatable {
        case pods
        case events
        case configMaps
        case secrets
        case podDisruptionBudgets
        case priorityClasses
        case serviceAccounts
    }

    var resource: Resource
    var names: [String]

    static func resource(_ text: String) -> Resource? {
        switch text.lowercased() {
        case "pod", "pods", "po": return .pods
        case "event", "events", "ev": return .events
        case "configmap", "configmaps", "cm": return .configMaps
        case "secret", "secrets": return .secrets
        case "serviceaccount", "serviceaccounts", "sa": return .serviceAccounts
        case "poddisruptionbudget", "poddisruptionbudgets", "pdb", "poddisruptionbudget.policy", "poddisruptionbudgets.policy": return .podDisruptionBudgets
        case "priorityclass", "priorityclasses", "pc", "priorityclass.scheduling.k8s.io", "priorityclasses.scheduling.k8s.io": return .priorityClasses
        default: return nil
        }
    }

    /// Parses `TYPE [NAME...]` or `TYPE/NAME...`; `allowed` lists the resources the verb
    /// supports.
    static func parse(_ arguments: [String], verb: String, allowed: [Resource] = [.pods]) throws(PodctlError) -> ResourceArguments {
        guard let first = arguments.first else {
            throw PodctlError("you must specify the type of resource to \(verb) (podctl knows: pods)")
        }
        if first.contains("/") {
            var resource: Resource?
            var names: [String] = []
            for argument in arguments {
                let parts = argument.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[1].isEmpty, let type = Self.resource(String(parts[0])) else {
                    throw PodctlError("arguments in resource/name form must have a single resource and name: \"\(argument)\"")
                }
                guard resource == nil || resource == type else {
                    throw PodctlError("podctl \(verb) takes one resource type at a time")
                }
                resource = type
                names.append(String(parts[1]))
            }
            guard let resource, allowed.contains(resource) else {
                throw PodctlError("podctl \(verb) does not support the resource type \"\(first.split(separator: "/")[0])\"")
            }
            return ResourceArguments(resource: resource, names: names)
        }
        guard let resource = Self.resource(first) else {
            throw PodctlError("the server doesn't have a resource type \"\(first)\" (podctl \(verb) knows: \(allowed.map(\.plural).joined(separator: ", ")))")
        }
        guard allowed.contains(resource) else {
            throw PodctlError("podctl \(verb) does not take \(resource.plural) (it takes: \(allowed.map(\.plural).joined(separator: ", ")))")
        }
        let names = Array(arguments.dropFirst())
        if let slashed = names.first(where: { $0.contains("/") }) {
            throw PodctlError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'podctl \(verb) resource/<resource_name>' instead of 'podctl \(verb) resource resource/<resource_name>'): \(slashed)")
        }
        return ResourceArguments(resource: resource, names: names)
    }
}
