import PodModel

/// kubectl's table rows of PodDisruptionBudgets: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED
/// DISRUPTIONS AGE ("N/A" for the bound not set).
enum DisruptionBudgetRow {
    static func headers(withNamespace: Bool) -> [String] {
        (withNamespace ? ["NAMESPACE"] : []) + ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
    }

    static func cells(_ object: JSONValue, withNamespace: Bool, now: Double) -> [String] {
        let metadata = object["metadata"]
        var cells = withNamespace ? [metadata["namespace"].string] : []
        cells.append(metadata["name"].string)
        cells += [object["spec"]["minAvailable"].intOrString ?? "N/A", object["spec"]["maxUnavailable"].intOrString ?? "N/A",
                  String(object["status"]["disruptionsAllowed"]?.intValue ?? 0),
                  Clock.age(since: metadata["creationTimestamp"].string, now: now)]
        return cells
    }
}
