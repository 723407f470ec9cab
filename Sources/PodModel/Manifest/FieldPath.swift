/// The path of a field in an object, printed as Kubernetes prints it in errors:
/// `spec.containers[0].image`, `metadata.annotations[podd.io/restart-scope]`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The printed path; empty for the root of the object.
    public let description: String

    /// The root of an object: children of it print without a leading dot.
    public static let root = FieldPath(rendered: "")

    /// A path from its printed form (`FieldPath("spec.containers[0]")`).
    public init(_ rendered: String) { self.description = rendered }

    public init(stringLiteral value: String) { self.init(value) }

    private init(rendered: String) { self.description = rendered }

    /// The field `name` of this object: `spec` + `containers` is `spec.containers`.
    public func child(_ name: String) -> FieldPath {
        FieldPath(rendered: description.isEmpty ? name : description + "." + name)
    }

    /// Several nested fields at once: `child("valueFrom", "fieldRef")`.
    public func child(_ first: String, _ rest: String...) -> FieldPath {
        rest.reduce(child(first)) { $0.child($1) }
    }

    /// The element `index` of this list: `spec.containers[0]`.
    public func index(_ index: Int) -> FieldPath {
        FieldPath(rendered: description + "[\(index)]")
    }

    /// The entry `key` of this map: `metadata.labels[app]`.
    public func key(_ key: String) -> FieldPath {
        FieldPath(rendered: description + "[\(key)]")
    }

    /// Whether this is the root.
    public var isRoot: Bool { description.isEmpty }
}
