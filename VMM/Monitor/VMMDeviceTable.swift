import UserRuntime

/// The VMM's component slot (`UserPlatform.componentState`): per VM its PC (nil for test images and Multiboot
/// guests, which have no devices beyond COM1 and the test ports). vmmMain sets a fresh table before it builds the
/// VMs, so a restarted VMM never sees its predecessor's objects; the handlers only read it.
final class VMMDeviceTable<P: UserPlatform> {
    var machines: [PCMachine<P>?] = Array(repeating: nil, count: VMMLayout.maxVMs)

    /// The table of the running VMM (nil before vmmMain set it).
    static func current(_ platform: P) -> VMMDeviceTable<P>? {
        // Only vmmMain stores into the slot, always an object of this class.
        platform.componentState.map { unsafeDowncast($0, to: VMMDeviceTable<P>.self) }
    }

    static func machine(_ platform: P, vm: Int) -> PCMachine<P>? {
        guard vm >= 0, vm < VMMLayout.maxVMs else { return nil }
        return current(platform)?.machines[vm]
    }
}
