/// The bounds of the durations in seconds a pod or a request carries.
///
/// Kubernetes bounds `activeDeadlineSeconds` to 1...2147483647 (`math.MaxInt32`) and keeps
/// every probe field in an int32, but leaves `terminationGracePeriodSeconds` and a
/// DeleteOptions' `gracePeriodSeconds` unbounded int64s. podd turns a grace period into a
/// deadline and a `deletionTimestamp`, which must stay a time RFC 3339 can write (years
/// 0000-9999): `9223372036854775807` used to crash the daemon, and 10^12 seconds gave a year
/// 33715 its own parser refused. So podd applies Kubernetes' int32 bound to these too: about
/// 68 years, far beyond any real grace period, and well inside year 9999.
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

/// Validation of a DELETE's options (`?gracePeriodSeconds=` or a DeleteOptions body).
public enum DeleteValidation {
    /// Refuses a grace period podd cannot turn into a deletion deadline: negative, or beyond
    /// `SecondsLimits.maximumGracePeriod`. The error's field is `gracePeriodSeconds`.
    public static func gracePeriod(_ seconds: Int64) throws(FieldError) {
        if let error = SecondsLimits.gracePeriodErrors(seconds, path: FieldPath("gracePeriodSeconds")).first {
            throw error
        }
    }
}
