/// A whole amount written as Kubernetes' resource.Quantity.String() writes it (its canonical
/// form, what the API server stores and kubelet prints in messages): in the format the
/// quantity was written in (binary suffixes "Ki".."Ei", decimal ones "k".."E", or a decimal
/// exponent), with the largest suffix that keeps the number whole: "1Mi", "1536Ki", "5M",
/// "1048576", "1e6".
extension Quantity {
    public enum Format: Sendable {
        case binarySI, decimalSI, decimalExponent
    }

    /// The format Kubernetes infers from the text's suffix.
    public var format: Format {
        if string.hasSuffix("i") { return .binarySI }
        if string.contains(where: { $0 == "e" || $0 == "E" }) && !string.hasSuffix("E") { return .decimalExponent }
        return .decimalSI
    }

    /// This quantity's amount in canonical form.
    public var canonical: String { Self.canonical(value, format: format) }

    /// `value` in canonical form for `format`.
    public static func canonical(_ value: Int64, format: Format) -> String {
        switch format {
        case .binarySI where value > -1024 && value < 1024:
            // Kubernetes writes small binary amounts as plain decimal numbers.
            return canonical(value, format: .decimalSI)
        case .binarySI:
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            var (number, power) = (value, 0)
            while number % 1024 == 0 && power < suffixes.count - 1 {
                number /= 1024
                power += 1
            }
            return "\(number)\(suffixes[power])"
        case .decimalSI, .decimalExponent:
            let suffixes = ["", "k", "M", "G", "T", "P", "E"]
            var (number, power) = (value, 0)
            while number != 0 && number % 1000 == 0 && power < suffixes.count - 1 {
                number /= 1000
                power += 1
            }
            if format == .decimalExponent { return power == 0 ? "\(number)" : "\(number)e\(power * 3)" }
            return "\(number)\(suffixes[power])"
        }
    }
}
