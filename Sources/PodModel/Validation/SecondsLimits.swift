/// The bounds of the durations in seconds a pod or a request carries.
///
/// Kubernetes bounds `activeDeadlineSeconds` to 1...2147483647 (`math.MaxInt32`) and keeps
/// every probe field in an int32, but leaves `terminationGracePeriodSeconds` and a
/// DeleteOptions' `gracePeriodSeconds` unbounded int64s. podd turns a grace period into a
/// deadline and a `deletionTimestamp`, which must stay a time RFC 3339 can write (years
/// 0000-9999): `9223372036854775807` used to crash the daemon, and 10^12 seconds gave a year
/// 33715 its own parser refused. So podd applies Kubernetes' int32 bound to these too: about
/// 68 years, far beyond any real grace period, and well inside year 9999. A manifest beyond
/// it is refused (422); a DELETE's is taken as the bound (`DeleteValidation`), as the API
/// server takes any value there.
public enum SecondsLimits {
    /// The largest grace period podd accepts, in seconds (2147483647, `math.MaxInt32`).
    public static let maximumGracePeriod = Int64(Int32.max)

    /// The problems of a grace period at `path`: negative, or beyond `maximumGracePeriod`.
    static func gracePeriodErrors(_ seconds: Int64, path: FieldPath) -> [FieldError] {
        if seconds < 0 {
            return [.invalid(path, .int(seconds), "must be greater than or equal to 0")]
        }
        if seconds > maximumGracePeriod {
            return [.invalid(path, .int(seconds), inclusiveRange(0, maximumGracePeriod))]
        }
        return []
    }

    /// apimachinery's InclusiveRangeError.
    static func inclusiveRange(_ low: Int64, _ high: Int64) -> String {
        "must be between \(low) and \(high), inclusive"
    }
}

/// The grace period of a DELETE (`?gracePeriodSeconds=` or a DeleteOptions body).
public enum DeleteValidation {
    /// The grace period podd applies for the one a DELETE asked for, as the API server takes
    /// it: a negative one is 1 s (k8s.io/apiserver registry/rest/delete.go, `BeforeDelete`:
    /// "Negative values will be treated as the value `1s` on the delete path"). The API server
    /// takes any int64 beyond that; podd saturates at `SecondsLimits.maximumGracePeriod`
    /// (about 68 years) so that the deadline and `deletionTimestamp` stay times it can write,
    /// never an overflow (Int64.max once crashed podd).
    public static func gracePeriod(_ seconds: Int64) -> Int64 {
        seconds < 0 ? 1 : min(seconds, SecondsLimits.maximumGracePeriod)
    }
}
