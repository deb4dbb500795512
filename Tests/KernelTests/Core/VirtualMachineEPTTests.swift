import KernelABI
import Sim
import XCTest
@testable import Kernel

/// Every VirtualMachineTests case again on a machine whose nested paging is Intel EPT (the VMX platform's format):
/// the kernel builds and splits VM PDs' tables as `EPTEntry`, the invariant checker reads them back in that format,
/// and the simulated guest CPU walks them as EPT (SimEPTWalker, which reports any misconfiguration as a kernel fault).
final class VirtualMachineEPTTests: VirtualMachineTests {
    override var nestedPaging: NestedPagingFormat { .ept }

    /// The VM's 2 MiB of RAM is one EPT leaf (read/write/execute, write-back, large); revoking one page splits it
    /// into 4 KiB leaves with the same bits and leaves that page empty.
    func testGuestMemoryIsWriteBackEPTLeavesSplitOnRevoke() throws {
        let (h, physical) = try makeVM(code: [0xf4])
        let vm = h.pd(h.rootPD, Self.vm)
        let platform = h.kernel.platform
        func entry(_ table: UInt64, _ index: UInt64) -> UInt64 { platform.readPhysical(table + index * 8) }
        let pdpt = EPTEntry.address(entry(vm.pageTableRoot, 0))
        let directory = EPTEntry.address(entry(pdpt, 0))
        XCTAssertEqual(entry(vm.pageTableRoot, 0) & 0xfff, 7, "intermediate entries allow everything")
        XCTAssertEqual(entry(directory, 0), physical | 0x7 | 6 << 3 | 0x80, "one 2 MiB write-back leaf, RWX")

        let block = try XCTUnwrap(h.rootPD.space.covering(.memory, (physical + AddressLayout.physicalWindow) >> 12))
        XCTAssertEqual(h.status(h.rootEC, .revoke, CapabilityRange(kind: .memory, base: block.key + 2, permissions: 0).word, 0),
                       .success)
        let table = EPTEntry.address(entry(directory, 0))
        XCTAssertEqual(entry(directory, 0) & 0xff, 7, "the leaf became a table")
        XCTAssertEqual(entry(table, 2), 0, "the revoked page is gone")
        XCTAssertEqual(entry(table, 3), (physical + 0x3000) | 0x7 | 6 << 3, "its neighbours stay 4 KiB leaves")
        h.assertInvariants("after splitting an EPT leaf")
    }
}
