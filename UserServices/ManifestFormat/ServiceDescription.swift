/// A service a component provides: other components reach it through a portal the root task creates.
/// `kind` says what protocol it speaks (e.g. "log"); users must expect the same kind.
public struct ServiceDescription: Equatable, Sendable {
    public var name: ManifestString
    public var kind: ManifestString
    public init(name: ManifestString, kind: ManifestString) {
        self.name = name
        self.kind = kind
    }
}

/// A service a component (or a VM) uses, and where the manifest routed it.
/// `provider` indexes `SystemDescription.components`; `service` indexes that component's `provides`.
public struct ServiceRoute: Equatable, Sendable {
    /// The name the user knows the service by (its start-info entry).
    public var name: ManifestString
    /// The kind the user expects; equals the kind of the routed service.
    public var kind: ManifestString
    public var provider: Int
    public var service: Int
    public init(name: ManifestString, kind: ManifestString, provider: Int, service: Int) {
        self.name = name
        self.kind = kind
        self.provider = provider
        self.service = service
    }
}
