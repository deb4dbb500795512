/// Every binary starts with a table of entry points at its ELF entry address, one `slotSize`-byte slot each:
/// slot 0 is its main function, slot k > 0 its k-th portal handler. A component learns its own ELF entry from its
/// start-info page (the root task reads its own from the bundle), so it can bind portals to its handlers without
/// knowing how the platform lays out code: on the image each slot is a 32-byte aligned jump, in the simulator each
/// slot is one 32-byte code record (`SimCodeRecord`: magic, program id, entry index, padding).
///
/// Every entry has the Swift shape `func name<P: UserPlatform>(_ platform: P, startInfo: UInt64)`. Main entries get
/// `rdi` = the start-info page; handler entries ignore the argument, read the call from their UTCB, and loop
/// `handle; reply` forever.
public enum EntryTable {
    public static let slotSize: UInt64 = 32

    public static func address(entry: UInt64, slot: Int) -> UInt64 { entry &+ UInt64(slot) &* slotSize }
}
