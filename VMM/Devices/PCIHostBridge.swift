/// The host bridge at 00:00.0: Intel's Q35 memory controller hub (8086:29c0), the chipset QEMU's `-machine q35`
/// shows and the platform the VMM's ACPI tables and the reference QEMU runs describe. Chosen over the i440FX
/// (8086:1237) because that one comes with a PIIX3 ISA bridge and PAM/SMRAM registers a guest would expect next to
/// it. Only the header is modelled: Linux identifies the bridge (its type 1 probe looks for a host-bridge class or
/// an Intel vendor ID on bus 0) and touches none of the MCH's chipset registers when ACPI has no MCFG table.
public final class PCIHostBridge: PCIFunction {
    public static let identity = PCIFunctionIdentity(
        vendorID: 0x8086, deviceID: 0x29c0, revision: 0, classCode: 0x06_00_00,
        subsystemVendorID: 0x1af4, subsystemID: 0x1100, interruptPin: 0)

    public let configurationSpace = PCIConfigurationSpace(identity: PCIHostBridge.identity)

    public init() {}
}
