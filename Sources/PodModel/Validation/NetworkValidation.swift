/// The pod's network fields, as the API server validates them (validateHostNetwork,
/// AccumulateUniqueHostPorts, validateDNSPolicy/validatePodDNSConfig, validateHostAliases),
/// plus podd's rule that a hostPort is TCP or UDP (SCTP is not published).
enum NetworkValidation {
    static func validate(_ spec: PodSpec, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var seen = Set<String>()
        for (label, list) in [("initContainers", spec.initContainers), ("containers", spec.containers)] {
            for (ci, container) in list.enumerated() {
                for (pi, port) in container.ports.enumerated() {
                    let portPath = path.child(label).index(ci).child("ports").index(pi)
                    if let hostIP = port.hostIP, !hostIP.isEmpty, !IPAddressText.isValid(hostIP) {
                        errors.append(.invalid(portPath.child("hostIP"), .string(hostIP), "must be a valid IP address"))
                    }
                    guard let hostPort = port.hostPort else { continue }
                    for message in NameRules.portNumberErrors(Int64(hostPort)) {
                        errors.append(.invalid(portPath.child("hostPort"), .int(Int64(hostPort)), message))
                    }
                    if spec.hostNetwork && hostPort != port.containerPort {
                        errors.append(.invalid(portPath.child("hostPort"), .int(Int64(hostPort)),
                                               "must match `containerPort` when `hostNetwork` is true"))
                    }
                    if port.protocol == .sctp {
                        errors.append(.notSupported(portPath.child("protocol"), .string("SCTP"), supported: ["TCP", "UDP"]))
                    }
                    let key = "\(port.protocol.rawValue)/\(port.hostIP ?? "")/\(hostPort)"
                    if !seen.insert(key).inserted {
                        errors.append(.duplicate(portPath.child("hostPort"), .string(key)))
                    }
                }
            }
        }
        if let subdomain = spec.subdomain, !subdomain.isEmpty {
            for message in DNS1123.labelErrors(subdomain) {
                errors.append(.invalid(path.child("subdomain"), .string(subdomain), message))
            }
        }
        if spec.dnsPolicy == .none && spec.dnsConfig == nil {
            errors.append(.required(path.child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
        }
        if let dns = spec.dnsConfig {
            let dnsPath = path.child("dnsConfig")
            if dns.nameservers.count > 3 {
                errors.append(.invalid(dnsPath.child("nameservers"), .string(dns.nameservers.joined(separator: " ")),
                                       "must not have more than 3 nameservers"))
            }
            for (i, server) in dns.nameservers.enumerated() where !IPAddressText.isValid(server) {
                errors.append(.invalid(dnsPath.child("nameservers").index(i), .string(server), "must be valid IP address"))
            }
            if spec.dnsPolicy == .none && dns.nameservers.isEmpty {
                errors.append(.required(dnsPath.child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
            }
            if dns.searches.count > 32 {
                errors.append(.invalid(dnsPath.child("searches"), .string(dns.searches.joined(separator: " ")),
                                       "must not have more than 32 search paths"))
            }
            for (i, search) in dns.searches.enumerated() {
                let domain = search.hasSuffix(".") ? String(search.dropLast()) : search
                for message in DNS1123.subdomainErrors(domain) {
                    errors.append(.invalid(dnsPath.child("searches").index(i), .string(search), message))
                }
            }
            for (i, option) in dns.options.enumerated() where option.name.isEmpty {
                errors.append(.required(dnsPath.child("options").index(i).child("name"), "Option.Name must not be empty"))
            }
        }
        for (i, alias) in spec.hostAliases.enumerated() {
            let aliasPath = path.child("hostAliases").index(i)
            if !IPAddressText.isValid(alias.ip) {
                errors.append(.invalid(aliasPath.child("ip"), .string(alias.ip), "must be a valid IP address"))
            }
            for (h, hostname) in alias.hostnames.enumerated() {
                for message in DNS1123.subdomainErrors(hostname) {
                    errors.append(.invalid(aliasPath.child("hostnames").index(h), .string(hostname), message))
                }
            }
        }
        return errors
    }
}

/// IP address syntax, as Go's net.ParseIP takes it (dotted IPv4, or IPv6 with `::`).
enum IPAddressText {
    static func isValid(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return false }
        var groups = 0
        for half in halves where !half.isEmpty {
            let fields = half.split(separator: ":", omittingEmptySubsequences: false)
            for (i, f) in fields.enumerated() {
                if i == fields.count - 1 && f.contains(".") {
                    guard isIPv4(String(f)) else { return false }
                    groups += 2
                } else {
                    guard !f.isEmpty, f.count <= 4, !f.contains(".") else { return false }
                    groups += 1
                }
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}

private extension String {
    /// The parts either side of each `::`.
    func components(separatedByDoubleColon _: Void) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let r = rest.range(of: "::") {
            parts.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}

private extension Substring {
    func range(of needle: String) -> Range<Substring.Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}
