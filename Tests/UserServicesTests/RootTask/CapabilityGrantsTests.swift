import KernelABI
import ManifestFormat
@testable import RootTask
import UserRuntime
import XCTest

final class CapabilityGrantsTests: XCTestCase {
    func testPortRangesSplitIntoTheFewestAlignedBlocks() {
        let blocks = CapabilityGrants.alignedBlocks(first: 0x3f8, count: 8).map { [$0.base, $0.order] }
        XCTAssertEqual(blocks, [[0x3f8, 3]])
        let odd = CapabilityGrants.alignedBlocks(first: 0x61, count: 6).map { [$0.base, $0.order] }
        XCTAssertEqual(odd, [[0x61, 0], [0x62, 1], [0x64, 1], [0x66, 0]])
        XCTAssertTrue(CapabilityGrants.alignedBlocks(first: 5, count: 0).isEmpty)
    }

    func testDevicesGrantExactlyTheManifestsPortsMMIOAndInterrupts() {
        let c = ComponentDescription(name: "nic", binary: "nic", memory: 1 << 20, priority: 10, budgetMilliseconds: 10,
                                     ioPorts: [PortRange(first: 0xc000, count: 0x20)],
                                     mmio: [MMIORange(base: 0xfebf_0000, size: 0x2000)], interrupts: [11, 5])
        let grants = CapabilityGrants.devices(of: c)
        let window = AddressLayout.physicalWindow >> 12
        let mmio = CapabilityGrants.mmioWindow >> 12
        XCTAssertEqual(grants, [
            Delegation(source: CapabilityRange(kind: .io, base: 0xc000, order: 5, permissions: Permissions.ioAccess),
                       destinationBase: 0xc000),
            Delegation(source: CapabilityRange(kind: .memory, base: window + 0xfebf0, order: 1,
                                               permissions: Permissions.read | Permissions.write),
                       destinationBase: mmio + 0xfebf0),
            Delegation(source: CapabilityRange(kind: .object, base: RootSelectors.interruptBase + 11,
                                               permissions: Permissions.smDown),
                       destinationBase: ComponentSelectors.firstInterrupt),
            Delegation(source: CapabilityRange(kind: .object, base: RootSelectors.interruptBase + 5,
                                               permissions: Permissions.smDown),
                       destinationBase: ComponentSelectors.firstInterrupt + 1),
        ])
        XCTAssertTrue(grants.allSatisfy { $0.source.isAligned })
    }

    func testAComponentWithoutDevicesGetsNone() {
        let c = ComponentDescription(name: "hello", binary: "hello", memory: 1 << 19, priority: 10, budgetMilliseconds: 10)
        XCTAssertTrue(CapabilityGrants.devices(of: c).isEmpty)
    }
}
