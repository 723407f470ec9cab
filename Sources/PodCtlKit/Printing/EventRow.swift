import PodModel

/// How kubectl presents core/v1 Events: their order, their "last seen" interval, their source.
public enum EventFormat {
    /// The time an event is sorted by (kubectl's `SortableEvents`): the series' last
    /// observation, else lastTimestamp, else eventTime.
    public static func sortTime(_ event: JSONValue) -> Double {
        if event["series"].isObject, let time = Clock.parseRFC3339(event["series"]["lastObservedTime"].string) {
            return time
        }
        if let time = Clock.parseRFC3339(event["lastTimestamp"].string) { return time }
        return Clock.parseRFC3339(event["eventTime"].string) ?? 0
    }

    public static func sorted(_ events: [JSONValue]) -> [JSONValue] {
        events.enumerated()
            .sorted { lhs, rhs in
                let (left, right) = (sortTime(lhs.element), sortTime(rhs.element))
                return left != right ? left < right : lhs.offset < rhs.offset
            }
            .map(\.element)
    }

    /// `5s`, or `5s (x3 over 2m)` for a repeated event, as kubectl's events table and
    /// describe print it.
    public static func interval(_ event: JSONValue, now: Double = Clock.now()) -> String {
        var firstSeen = Clock.age(since: event["eventTime"].string, now: now)
        if event["eventTime"].string.isEmpty || Clock.parseRFC3339(event["eventTime"].string) == nil {
            firstSeen = Clock.age(since: event["firstTimestamp"].string, now: now)
        }
        if event["series"].isObject {
            let last = Clock.age(since: event["series"]["lastObservedTime"].string, now: now)
            return "\(last) (x\(event["series"]["count"].int) over \(firstSeen))"
        }
        if event["count"].int > 1 {
            let last = Clock.age(since: event["lastTimestamp"].string, now: now)
            return "\(last) (x\(event["count"].int) over \(firstSeen))"
        }
        return firstSeen
    }

    /// The component that reported the event.
    public static func source(_ event: JSONValue) -> String {
        let component = event["source"]["component"].string
        return component.isEmpty ? event["reportingController"].string : component
    }

    /// The `kubectl events` table: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (NAMESPACE first
    /// across namespaces).
    public static func headers(withNamespace: Bool) -> [String] {
        (withNamespace ? ["NAMESPACE"] : []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    }

    public static func cells(_ event: JSONValue, withNamespace: Bool, now: Double = Clock.now()) -> [String] {
        let object = event["involvedObject"]
        var cells = withNamespace ? [event["metadata"]["namespace"].string] : []
        cells += [
            interval(event, now: now),
            event["type"].string,
            event["reason"].string,
            object["kind"].string + "/" + object["name"].string,
            event["message"].string.trimmingSpaces,
        ]
        return cells
    }
}
