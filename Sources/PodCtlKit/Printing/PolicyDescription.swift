import PodModel

/// `podctl describe pdb|pc`, as kubectl's PodDisruptionBudget and PriorityClass describers
/// write them (`describePodDisruptionBudgetV1`, `describePriorityClass`), with the object's
/// events: a budget's come from podd's disruption controller (NoPods, UnmanagedPods).
enum PolicyDescription {
    static func describe(_ resource: ResourceArguments, namespace: String, client: PoddClient) throws {
        guard let objects = try Podctl.Describe.objects(resource, namespace: namespace, client: client) else { return }
        let now = Clock.now()
        let texts = objects.map { object in
            let events = DescribedEvents.of(object, kind: resource.resource.kind, client: client) ?? []
            return resource.resource == .priorityClasses
                ? priorityClass(object, events: events, now: now)
                : disruptionBudget(object, events: events, now: now)
        }
        Output.write(texts.joined(separator: "\n\n"))
    }

    static func disruptionBudget(_ budget: JSONValue, events: [JSONValue], now: Double) -> String {
        var writer = TabWriter.describe()
        var output = ""
        let metadata = budget["metadata"], spec = budget["spec"], status = budget["status"]
        writer.write("Name:\t\(metadata["name"].string)\n")
        writer.write("Namespace:\t\(metadata["namespace"].string)\n")
        if let bound = spec["minAvailable"].intOrString {
            writer.write("Min available:\t\(bound)\n")
        } else if let bound = spec["maxUnavailable"].intOrString {
            writer.write("Max unavailable:\t\(bound)\n")
        }
        if let json = spec["selector"], json.isObject {
            writer.write("Selector:\t\(DisruptionBudgets.selectorText(try? LabelSelectorSpec(json: json, path: "spec.selector")))\n")
        } else {
            writer.write("Selector:\t<unset>\n")
        }
        writer.write("Status:\n")
        writer.write("    Allowed disruptions:\t\(status["disruptionsAllowed"]?.intValue ?? 0)\n")
        writer.write("    Current:\t\(status["currentHealthy"]?.intValue ?? 0)\n")
        writer.write("    Desired:\t\(status["desiredHealthy"]?.intValue ?? 0)\n")
        writer.write("    Total:\t\(status["expectedPods"]?.intValue ?? 0)\n")
        DescribedEvents.write(events, to: &writer, output: &output, now: now)
        return output + writer.flush()
    }

    static func priorityClass(_ priorityClass: JSONValue, events: [JSONValue], now: Double) -> String {
        var writer = TabWriter.describe()
        var output = ""
        writer.write("Name:\t\(priorityClass["metadata"]["name"].string)\n")
        writer.write("Value:\t\(priorityClass["value"]?.intValue ?? 0)\n")
        writer.write("GlobalDefault:\t\(priorityClass["globalDefault"]?.boolValue ?? false)\n")
        writer.write("PreemptionPolicy:\t\(priorityClass["preemptionPolicy"].string)\n")
        writer.write("Description:\t\(priorityClass["description"].string)\n")
        // Annotations on one line, as labels.FormatLabels prints them.
        let annotations = priorityClass["metadata"]["annotations"].objectValue ?? JSONObject()
        let formatted = annotations.keys.sorted().map { "\($0)=\(annotations[$0]?.stringValue ?? "")" }.joined(separator: ",")
        writer.write("Annotations:\t\(formatted.isEmpty ? "<none>" : formatted)\n")
        DescribedEvents.write(events, to: &writer, output: &output, now: now)
        return output + writer.flush()
    }
}
