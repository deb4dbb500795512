import UserRuntime

/// One device's configuration space as a driver sees it through the `pci` service (reads as they are, writes
/// filtered by the PCI driver), so the helpers written over `PCIConfigAccess` (the capability walk) serve drivers
/// too. The address argument is ignored: the client names its device by index. A refused access reads as all
/// ones (what an absent register reads), and a refused write does nothing.
public final class PCIClientConfigAccess<P: UserPlatform>: PCIConfigAccess {
    let client: PCIClient<P>
    let index: Int

    public init(client: PCIClient<P>, index: Int) {
        self.client = client
        self.index = index
    }

    public func read(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth) -> UInt32 {
        (try? client.read(index, offset: UInt64(offset), width: width).get()) ?? width.mask
    }

    public func write(_ address: PCIAddress, offset: UInt8, width: PCIAccessWidth, _ value: UInt32) {
        _ = client.write(index, offset: UInt64(offset), width: width, value)
    }
}
