import PodModel

/// kubectl's table rows of PodDisruptionBudgets: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED
/// DISRUPTIONS AGE ("N/A" for the bound not set).
enum DisruptionBudgetRow {
    static func headers(withNamespace: Bool) -> [String] {
        (withNamespace ? ["NAMESPACE"] : []) + ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
    }

    static func cells(_ object: JSONValue, withNamespace: Bool, now: Double) -> [String] {
        let metadata = object["metadata"]
        func bound(_ value: JSONValue?) -> String {
            if let text = value?.stringValue { return text }
            if let number = value?.intValue { return String(number) }
            return "N/A"
        }
        var cells = withNamespace ? [metadata["namespace"].string] : []
        cells.append(metadata["name"].string)
        cells += [bound(object["spec"]["minAvailable"]), bound(object["spec"]["maxUnavailable"]),
                  String(object["status"]["disruptionsAllowed"]?.intValue ?? 0),
                  Clock.age(since: metadata["creationTimestamp"].string, now: now)]
        return cells
    }
}
