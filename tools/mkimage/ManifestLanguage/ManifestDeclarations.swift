/// A manifest after the schema was applied: typed values that still know where they were written, so the
/// semantic checks can point at the exact place. A missing optional key is `nil`; a missing required key was
/// already reported and is `nil` too (the later checks skip what they cannot check).
struct Located<Value> {
    var value: Value
    var location: SourceLocation
}

struct MachineDeclaration {
    var memory: Located<UInt64>?
    var interrupts: Located<UInt64>?
}

struct ServiceDeclaration {
    var location: SourceLocation
    var name: Located<String>
    /// Defaults to the name.
    var kind: Located<String>
}

/// A service a component or VM uses; `provider` and `service` may be left for the compiler to find by kind.
struct RouteDeclaration {
    var location: SourceLocation
    var name: Located<String>
    /// Defaults to the name.
    var kind: Located<String>
    var provider: Located<String>?
    var service: Located<String>?
}

struct ComponentDeclaration {
    var location: SourceLocation
    var name: Located<String>
    var binary: Located<String>?
    var memory: Located<UInt64>?
    var priority: Located<UInt64>?
    var budget: Located<UInt64>?
    var ioPorts: [Located<RangeLiteral>]
    var mmio: [Located<RangeLiteral>]
    var interrupts: [Located<UInt64>]
    /// As written (`"1af4:1001"`, `"00:03.0"`), parsed by the validator.
    var pciDevices: [Located<String>]
    var provides: [ServiceDeclaration]
    var uses: [RouteDeclaration]
    var dependsOn: [Located<String>]
    var restartOnFault: Bool
    var isVMM: Bool
}

/// A `[start, size]` pair as written (ports or MMIO), checked later.
struct RangeLiteral {
    var start: UInt64
    var size: UInt64
}

struct VMDeclaration {
    var location: SourceLocation
    var name: Located<String>
    var vmm: Located<String>?
    var kernel: Located<String>?
    var initrd: Located<String>?
    var commandLine: Located<String>?
    var disk: Located<String>?
    /// The VMM's used service (a route of kind "block") that serves the disk instead of a module.
    var diskService: Located<String>?
    var testImage: Located<String>?
    var memory: Located<UInt64>?
    var vcpus: Located<UInt64>?
    var nested: Bool
    var services: [RouteDeclaration]
}

struct ManifestDeclarations {
    var machine = MachineDeclaration()
    var components: [ComponentDeclaration] = []
    var vms: [VMDeclaration] = []
}
