/// Whether `host` (a name or an IP address, an IPv6 one with or without brackets) is reachable
/// only from this machine: `localhost`, 127.0.0.0/8, `::1`.
public func isLoopbackHost(_ host: String) -> Bool {
    var lowered = host.lowercased()
    if lowered.hasPrefix("["), lowered.hasSuffix("]") { lowered = String(lowered.dropFirst().dropLast()) }
    if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
    let parts = lowered.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
}
