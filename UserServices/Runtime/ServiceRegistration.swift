import KernelABI

/// How a provider hands the portal of one of its services to the root task: it calls the registration portal
/// (`ComponentSelectors.registration`) with one untyped word, the service id (its index in the start-info list of
/// provided services), and one typed item delegating the portal with the `ptCall` right to the service's landing
/// selector (from the start-info page: the kernel delivers typed items where the sender says, inside the
/// receiver's window, so the root task tells each provider where). The root task then
/// delegates that portal to every component the manifest routes to the service. The reply's first untyped word is
/// a `Status`: `badRange` for an unknown service id, `badState` for a service registered twice, `badSelector` when
/// no portal capability arrived.
public enum ServiceRegistration {
    /// Registers `portal` as service `serviceID`, sending from the caller's UTCB `utcb`.
    public static func register<P: UserPlatform>(_ utcb: UTCB<P>, serviceID: UInt64, landing: UInt64,
                                                 portal: UInt64) -> Status {
        let item = CapabilityRange(kind: .object, base: portal, order: 0, permissions: Permissions.ptCall)
        utcb.setMessage(untyped: [serviceID], typed: [(item, landing)])
        let status = SystemCalls(utcb.platform).call(portal: ComponentSelectors.registration)
        guard status == .success else { return status }
        return Status(rawValue: utcb.data(0)) ?? .badState
    }
}
