import PodModel
import PodRuntime

/// What a DELETE asks, from its query and its DeleteOptions body (kubectl and client-go send
/// the body): the grace period, a dry run, and preconditions on the object's uid and
/// resourceVersion. A query parameter wins over the body's field, as the API server decodes
/// them. Pods, ConfigMaps and Secrets have no dependents, so `propagationPolicy` changes
/// nothing, but a value the API server would refuse is refused.
struct DeleteOptions {
    /// As asked, before DeleteValidation bounds it (the route does that for pods).
    var gracePeriod: Int64?
    var dryRun: Bool
    var preconditions = DeletePreconditions()

    static let propagationPolicies = ["Foreground", "Background", "Orphan"]

    init(_ r: APIRequest) throws(StatusError) {
        dryRun = try DryRun.requested(r)
        // What does not read as an int64 is 400, as the API server's parameter decoding
        // answers it.
        if let g = r.queryValue("gracePeriodSeconds"), !g.isEmpty {
            guard let v = Int64(g) else {
                throw .badRequest("gracePeriodSeconds: Invalid value: \"\(g)\": must be an integer (seconds, a 64-bit integer)")
            }
            gracePeriod = v
        }
        var policy = r.queryValue("propagationPolicy")
        if !r.body.bytes.isEmpty {
            guard let options = try? JSONValue.parse(r.body.bytes), options.objectValue != nil else {
                throw .badRequest("the request body is not a valid DeleteOptions object")
            }
            try read(options, policy: &policy)
        }
        try Self.checkPolicy(policy)
    }

    /// An eviction's options: its `deleteOptions` (nil: none), with the request's query.
    init(_ r: APIRequest, options: JSONValue?) throws(StatusError) {
        dryRun = try DryRun.requested(r)
        var policy: String?
        if let options, !options.isNull {
            guard options.objectValue != nil else { throw .badRequest("deleteOptions: expected a DeleteOptions object") }
            try read(options, policy: &policy)
        }
        try Self.checkPolicy(policy)
    }

    /// A DeleteOptions object's fields, under what the query already set.
    private mutating func read(_ options: JSONValue, policy: inout String?) throws(StatusError) {
        if let value = options["gracePeriodSeconds"], !value.isNull {
            guard let g = value.intValue else {
                throw .badRequest("DeleteOptions.gracePeriodSeconds: Invalid value: \(value.serializedString().prefix(64)): must be an integer (seconds, a 64-bit integer)")
            }
            gracePeriod = gracePeriod ?? g
        }
        if let values = options["dryRun"]?.arrayValue {
            for value in values where value != .string("All") {
                throw .badRequest("dryRun: Unsupported value: \(value.serializedString().prefix(64)): supported values: \"All\"")
            }
            if !values.isEmpty { dryRun = true }
        }
        if let value = options["propagationPolicy"], !value.isNull { policy = policy ?? value.stringValue ?? value.serializedString() }
        if let given = options["preconditions"], !given.isNull {
            preconditions.uid = try Self.string(given["uid"], "preconditions.uid")
            preconditions.resourceVersion = try Self.string(given["resourceVersion"], "preconditions.resourceVersion")
        }
    }

    private static func checkPolicy(_ policy: String?) throws(StatusError) {
        if let policy, !policy.isEmpty, !Self.propagationPolicies.contains(policy) {
            throw StatusError(code: 422, reason: "Invalid", message: "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(policy.prefix(64))\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
                              causes: [StatusCause(reason: "FieldValueNotSupported", message: "Unsupported value: \"\(policy.prefix(64))\": supported values: \"Foreground\", \"Background\", \"Orphan\"", field: "propagationPolicy")])
        }
    }

    private static func string(_ value: JSONValue?, _ field: String) throws(StatusError) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let s = value.stringValue else { throw .badRequest("DeleteOptions.\(field): expected a string") }
        return s
    }
}
