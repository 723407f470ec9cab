/// An amount of a resource as Kubernetes' resource.Quantity adds and compares it (Add, Cmp):
/// exact to a thousandth of a unit (saturating at Int64), keeping the format of the amount it
/// started from, and written back as Quantity.String() writes it ("1500m", "2", "192Mi"), the
/// text the API server stores when it fills in a default and quotes in its messages.
public struct ResourceAmount: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The amount in thousandths of a unit.
    public private(set) var milli: Int64
    /// The format of the quantity the amount came from (Go's Add keeps the receiver's).
    public let format: Quantity.Format

    public init(_ quantity: Quantity) {
        milli = quantity.milliValue ?? Int64.max
        format = quantity.format
    }

    /// Adds `other`, keeping this amount's format.
    public mutating func add(_ other: ResourceAmount) {
        let (sum, overflow) = milli.addingReportingOverflow(other.milli)
        milli = overflow ? Int64.max : sum
    }

    public static func < (lhs: ResourceAmount, rhs: ResourceAmount) -> Bool { lhs.milli < rhs.milli }
    public static func == (lhs: ResourceAmount, rhs: ResourceAmount) -> Bool { lhs.milli == rhs.milli }

    /// Quantity.String(): a whole amount in its format's canonical form; a fraction in
    /// thousandths ("1500m": Kubernetes writes fractions of binary amounts in decimal too).
    public var description: String {
        milli % 1000 == 0 ? Quantity.canonical(milli / 1000, format: format) : "\(milli)m"
    }

    /// The amount as a quantity written in canonical form.
    public var quantity: Quantity {
        // The canonical text always parses; the fallback keeps the whole units.
        (try? Quantity(parsing: description)) ?? Quantity(milli / 1000)
    }

    /// Adds `amount` to the entry `name` of `list` (addResourceList: a new entry takes the
    /// amount's format).
    static func add(_ amount: ResourceAmount, to list: inout [String: ResourceAmount], as name: String) {
        if list[name] == nil {
            list[name] = amount
        } else {
            list[name]?.add(amount)
        }
    }

    /// Keeps the larger of the entry `name` of `list` and `amount` (maxResourceList: the larger
    /// keeps its own format).
    static func keepLarger(_ amount: ResourceAmount, in list: inout [String: ResourceAmount], as name: String) {
        if let current = list[name], current >= amount { return }
        list[name] = amount
    }
}
