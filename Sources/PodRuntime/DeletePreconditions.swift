/// DeleteOptions.preconditions: a deletion that names the object's uid or resourceVersion
/// happens only while the object still has them (a client deleting what it read, not a
/// newer object of the same name). Checked under the same lock as the deletion, as the API
/// server checks them in its storage's transaction; a mismatch is 409 Conflict in its words.
public struct DeletePreconditions: Sendable, Equatable {
    public var uid: String?
    public var resourceVersion: String?

    public init(uid: String? = nil, resourceVersion: String? = nil) {
        self.uid = uid
        self.resourceVersion = resourceVersion
    }

    public func check(resource: String, name: String, uid actualUID: String?, resourceVersion actualVersion: String?) throws(RuntimeError) {
        func failed(_ why: String) -> RuntimeError {
            .conflict(kind: resource, name: name, reason: "Operation cannot be fulfilled on \(resource) \"\(name)\": Precondition failed: \(why)")
        }
        if let uid, uid != (actualUID ?? "") {
            throw failed("UID in precondition: \(uid), UID in object meta: \(actualUID ?? "")")
        }
        if let resourceVersion, resourceVersion != (actualVersion ?? "") {
            throw failed("ResourceVersion in precondition: \(resourceVersion), ResourceVersion in object meta: \(actualVersion ?? "")")
        }
    }
}
