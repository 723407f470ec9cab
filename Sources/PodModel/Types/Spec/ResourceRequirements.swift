/// What a container asks for (`requests`) and may use at most (`limits`): Kubernetes'
/// ResourceRequirements, keyed by resource name (`cpu`, `memory`, `ephemeral-storage`,
/// `hugepages-<size>`).
///
/// Decoding applies the API server's defaulting: a resource with a limit and no request gets
/// the limit as its request, so what is stored and shown is what Kubernetes would store.
public struct ResourceRequirements: JSONConvertible {
    public var limits: [String: Quantity]
    public var requests: [String: Quantity]

    public init(limits: [String: Quantity] = [:], requests: [String: Quantity] = [:]) {
        self.limits = limits
        self.requests = requests
    }

    /// Neither requests nor limits: the container takes what it gets (BestEffort).
    public var isEmpty: Bool { limits.isEmpty && requests.isEmpty }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let limits = Self.readList(&reader, "limits")
        let requests = Self.readList(&reader, "requests")
        // Dynamic resource claims need a DRA driver podd does not have.
        reader.reject(["claims"])
        try reader.finish()
        var defaulted = requests
        for (name, limit) in limits where defaulted[name] == nil { defaulted[name] = limit }
        self.init(limits: limits, requests: defaulted)
    }

    /// A map of resource name to quantity; absent is empty.
    static func readList(_ reader: inout ObjectReader, _ key: String) -> [String: Quantity] {
        guard let value = reader.value(key) else { return [:] }
        do {
            var list = try ObjectReader(value, path: reader.path.child(key))
            var result: [String: Quantity] = [:]
            for name in list.object.keys {
                if let quantity = list.quantity(name) { result[name] = quantity }
            }
            try list.finish()
            return result
        } catch {
            reader.absorb(error)
            return [:]
        }
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        if !limits.isEmpty { writer.set("limits", Self.listJSON(limits)) }
        if !requests.isEmpty { writer.set("requests", Self.listJSON(requests)) }
        return writer.json
    }

    /// Keys sorted, as Go writes a map.
    private static func listJSON(_ list: [String: Quantity]) -> JSONValue {
        .object(JSONObject(list.keys.sorted().compactMap { key in list[key].map { (key, JSONValue.string($0.string)) } }))
    }
}

/// Resource names and amounts in the units the kernel takes.
extension ResourceRequirements {
    public static let cpu = "cpu"
    public static let memory = "memory"
    public static let ephemeralStorage = "ephemeral-storage"
    public static let hugepagesPrefix = "hugepages-"

    /// CPU limit in millicores, nil when unlimited.
    public var cpuLimitMillis: Int64? { limits[Self.cpu]?.milliValue }
    /// CPU request in millicores, nil when not set.
    public var cpuRequestMillis: Int64? { requests[Self.cpu]?.milliValue }
    /// Memory limit in bytes, nil when unlimited.
    public var memoryLimitBytes: Int64? { limits[Self.memory]?.value }
    /// ephemeral-storage limit in bytes, nil when unlimited.
    public var ephemeralStorageLimitBytes: Int64? { limits[Self.ephemeralStorage]?.value }
    /// Hugepage limits: page size in bytes to bytes allowed.
    public var hugepageLimits: [(pageSize: Int64, bytes: Int64)] {
        limits.compactMap { name, quantity in
            guard let size = Self.hugepageSize(name) else { return nil }
            return (size, quantity.value)
        }.sorted { $0.pageSize < $1.pageSize }
    }

    /// The page size of a `hugepages-<size>` resource name, in bytes.
    public static func hugepageSize(_ name: String) -> Int64? {
        guard name.hasPrefix(hugepagesPrefix) else { return nil }
        guard let size = try? Quantity(parsing: String(name.dropFirst(hugepagesPrefix.count))), size.value > 0 else { return nil }
        return size.value
    }
}

extension Quantity {
    /// The amount in thousandths of a unit, rounded up ("100m" is 100, "0.5" is 500, "2" is
    /// 2000), as Quantity.MilliValue(); nil beyond Int64.
    public var milliValue: Int64? {
        // Scaling the text by 10^3 keeps fractions exact: "1.5" becomes "1.5e3".
        let text = string
        let suffixStart = text.firstIndex { !("0"..."9").contains($0) && $0 != "." && $0 != "+" && $0 != "-" } ?? text.endIndex
        let mantissa = String(text[..<suffixStart])
        let suffix = String(text[suffixStart...])
        let decimalPowers: [String: Int] = ["": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18]
        if let power = decimalPowers[suffix] {
            return try? Quantity(parsing: "\(mantissa)e\(power + 3)").value
        }
        if let first = suffix.first, first == "e" || first == "E", let power = Int(suffix.dropFirst()) {
            return try? Quantity(parsing: "\(mantissa)e\(power + 3)").value
        }
        // A binary suffix: a whole number of bytes already.
        let (milli, overflow) = value.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : milli
    }

    /// Orders two quantities by amount (Quantity.Cmp), exact to a thousandth of a unit.
    public static func compare(_ lhs: Quantity, _ rhs: Quantity) -> Int {
        if let l = lhs.milliValue, let r = rhs.milliValue { return l < r ? -1 : (l > r ? 1 : 0) }
        return lhs.value < rhs.value ? -1 : (lhs.value > rhs.value ? 1 : 0)
    }

    /// Whether the amount is zero.
    public var isZero: Bool { (milliValue ?? value) == 0 }
}
