/// What `podctl get` was asked for, read as kubectl's resource builder reads its arguments
/// (k8s.io/cli-runtime resource.Builder.ResourceTypeOrNameArgs):
///
/// - `TYPE[,TYPE...]`: each type's whole collection, in the order given (duplicates once);
/// - `TYPE[,TYPE...] NAME...`: each name in each type (`cm,secrets a` is `cm/a secrets/a`);
/// - `TYPE/NAME...`: those objects, of any types, in the order given.
struct GetTargets: Equatable {
    typealias Resource = ResourceArguments.Resource

    enum Target: Equatable {
        case collection(Resource)
        case object(Resource, name: String)

        var resource: Resource {
            switch self {
            case let .collection(resource), let .object(resource, _): return resource
            }
        }
    }

    var targets: [Target]

    /// The resource types asked for, each once, in order.
    var resources: [Resource] {
        var out: [Resource] = []
        for target in targets where !out.contains(target.resource) { out.append(target.resource) }
        return out
    }

    /// Whether the answer is one object (kubectl prints it bare with -o json|yaml) rather
    /// than a List.
    var singleObject: Bool {
        if targets.count == 1, case .object = targets[0] { return true }
        return false
    }

    static func parse(_ arguments: [String], allowed: [Resource]) throws(PodctlError) -> GetTargets {
        guard let first = arguments.first else {
            throw PodctlError("you must specify the type of resource to get (podctl knows: \(allowed.map(\.plural).joined(separator: ", ")))")
        }
        func resource(_ text: Substring) throws(PodctlError) -> Resource {
            guard let resource = ResourceArguments.resource(String(text)), allowed.contains(resource) else {
                throw PodctlError("the server doesn't have a resource type \"\(text)\" (podctl get knows: \(allowed.map(\.plural).joined(separator: ", ")))")
            }
            return resource
        }
        let slashed = arguments.filter { $0.contains("/") }
        if !slashed.isEmpty {
            guard slashed.count == arguments.count else {
                throw PodctlError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'podctl get resource/<resource_name>' instead of 'podctl get resource resource/<resource_name>')")
            }
            var targets: [Target] = []
            for argument in arguments {
                let parts = argument.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains("/") else {
                    throw PodctlError("arguments in resource/name form must have a single resource and name: \"\(argument)\"")
                }
                targets.append(.object(try resource(parts[0]), name: String(parts[1])))
            }
            return GetTargets(targets: targets)
        }
        var types: [Resource] = []
        for text in first.split(separator: ",") {
            let type = try resource(text)
            if !types.contains(type) { types.append(type) }
        }
        guard !types.isEmpty else { throw PodctlError("you must specify the type of resource to get") }
        let names = arguments.dropFirst()
        if names.isEmpty { return GetTargets(targets: types.map { .collection($0) }) }
        return GetTargets(targets: types.flatMap { type in names.map { Target.object(type, name: $0) } })
    }
}
