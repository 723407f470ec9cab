/// A Kubernetes resource quantity ("64Mi", "1G", "1.5Gi", "1e3", "500"), kept as written
/// and converted to an integer number of units (bytes, for sizes).
///
/// Syntax, as Kubernetes' resource.Quantity: an optionally signed decimal number followed
/// by a binary suffix (Ki Mi Gi Ti Pi Ei: powers of 1024), a decimal suffix (n u m k M G T P E)
/// or a decimal exponent (e3, E-2). `value` rounds up to a whole unit as Quantity.Value()
/// does: "1.5" is 2, "100m" is 1.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    /// The text as written.
    public let string: String
    /// The amount in whole units, rounded up (away from zero for negatives, as Kubernetes).
    public let value: Int64

    /// Why a text is not a quantity.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String { reason }
    }

    /// Kubernetes' message for a text that is not a quantity.
    public static let syntaxMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

    /// Parses a quantity.
    public init(parsing text: String) throws(ParseError) {
        guard let value = Self.parse(text) else { throw ParseError(text: text, reason: Self.syntaxMessage) }
        guard let amount = value else { throw ParseError(text: text, reason: "quantity \(text) is too large") }
        self.string = text
        self.value = amount
    }

    /// A quantity of `value` units, written as a plain integer.
    public init(_ value: Int64) {
        self.string = String(value)
        self.value = value
    }

    public var description: String { string }

    /// Two quantities are equal when they were written the same way (a round trip keeps the
    /// text); compare `value` for the amount.
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool { lhs.string == rhs.string }
    public func hash(into hasher: inout Hasher) { hasher.combine(string) }

    /// nil: not a quantity; .some(nil): a quantity beyond Int64.
    private static func parse(_ text: String) -> Int64?? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        // Mantissa: digits, optionally one '.', at least one digit overall.
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while let byte = bytes.first {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digits.append(byte - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                break
            }
            bytes = bytes.dropFirst()
        }
        guard !digits.isEmpty else { return nil }

        let suffix = String(decoding: bytes, as: UTF8.self)
        var base2Power = 0
        var base10Power = 0
        switch suffix {
        case "": break
        case "Ki": base2Power = 10
        case "Mi": base2Power = 20
        case "Gi": base2Power = 30
        case "Ti": base2Power = 40
        case "Pi": base2Power = 50
        case "Ei": base2Power = 60
        case "n": base10Power = -9
        case "u": base10Power = -6
        case "m": base10Power = -3
        case "k": base10Power = 3
        case "M": base10Power = 6
        case "G": base10Power = 9
        case "T": base10Power = 12
        case "P": base10Power = 15
        case "E": base10Power = 18
        default:
            // Decimal exponent: e or E, optional sign, digits.
            var exponent = suffix.utf8[...]
            guard let marker = exponent.first, marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") else { return nil }
            exponent = exponent.dropFirst()
            guard let power = Int(String(decoding: exponent, as: UTF8.self)), abs(power) <= 64,
                exponent.first != UInt8(ascii: "+") || exponent.count > 1
            else { return nil }
            base10Power = power
        }

        // Drop leading zeros so long but small mantissas ("0.000000000001") still fit.
        while digits.count > 1, digits[0] == 0 { digits.removeFirst() }
        // The amount is digits × 10^(base10Power − fractionDigits) × 2^base2Power, rounded up.
        var exponent10 = base10Power - fractionDigits
        var numerator: Int64 = 0
        // Set when digits beyond Int64's precision were dropped: the result then rounds up.
        var truncated = false
        for digit in digits {
            let (times10, overflow1) = numerator.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit))
            if overflow1 || overflow2 {
                exponent10 += 1
                truncated = truncated || digit != 0
                continue
            }
            numerator = sum
        }
        var amount = numerator
        for _ in 0..<base2Power {
            let (doubled, overflow) = amount.multipliedReportingOverflow(by: 2)
            guard !overflow else { return .some(nil) }
            amount = doubled
        }
        if exponent10 >= 0 {
            for _ in 0..<exponent10 {
                let (times10, overflow) = amount.multipliedReportingOverflow(by: 10)
                guard !overflow else { return .some(nil) }
                amount = times10
            }
        } else {
            var divisor: Int64 = 1
            var underflow = false
            for _ in 0..<(-exponent10) {
                let (times10, overflow) = divisor.multipliedReportingOverflow(by: 10)
                if overflow {
                    underflow = true
                    break
                }
                divisor = times10
            }
            if underflow {
                amount = amount == 0 && !truncated ? 0 : 1
            } else {
                let (quotient, remainder) = amount.quotientAndRemainder(dividingBy: divisor)
                amount = remainder == 0 && !truncated ? quotient : quotient + 1
            }
        }
        return .some(negative ? -amount : amount)
    }
}
