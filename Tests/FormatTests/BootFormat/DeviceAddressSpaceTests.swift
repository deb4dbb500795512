import BootFormat
import XCTest

/// The device address space of a PC from what the loader reported: the PCI hole above low memory and everything
/// above high memory, minus what the kernel keeps; never a byte of memory, whatever the input.
final class DeviceAddressSpaceTests: XCTestCase {
    static let kept = [PhysicalRange(base: 0xfec0_0000, size: 1 << 20), PhysicalRange(base: 0xfed9_0000, size: 4096),
                       PhysicalRange(base: 0xfee0_0000, size: 1 << 20)]

    func testQ35WithLowAndHighMemory() {
        let memory = [PhysicalRange(base: 0x10_0000, size: 0x7ef0_0000), PhysicalRange(base: 0x7fff_0000, size: 0x800), // not page aligned
                      PhysicalRange(base: 0x1_0000_0000, size: 0x8000_0000)]
        XCTAssertEqual(DeviceAddressSpace.ranges(memory: memory, kept: Self.kept, limit: 1 << 40), [
            PhysicalRange(base: 0x7fff_1000, size: 0xfec0_0000 - 0x7fff_1000), // the partial page rounds up
            PhysicalRange(base: 0xfed0_0000, size: 0x9_0000), PhysicalRange(base: 0xfed9_1000, size: 0x6_f000),
            PhysicalRange(base: 0xfef0_0000, size: 0x110_0000),
            PhysicalRange(base: 0x1_8000_0000, size: (1 << 40) - 0x1_8000_0000),
        ])
    }

    func testSmallMachineAndALimitBelowFourGiB() {
        let memory = [PhysicalRange(base: 0x10_0000, size: 0x3f0_0000)]
        XCTAssertEqual(DeviceAddressSpace.ranges(memory: memory, kept: [], limit: 1 << 31),
                       [PhysicalRange(base: 0x400_0000, size: (1 << 31) - 0x400_0000)])
        XCTAssertEqual(DeviceAddressSpace.ranges(memory: [PhysicalRange(base: 0, size: 1 << 33)], kept: [], limit: 1 << 33), [])
    }

    func testRandomInputNeverYieldsMemoryOrOverlaps() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let memory = (0..<Int.random(in: 0...6, using: &g)).map { _ in
                PhysicalRange(base: .random(in: 0...(1 << 36), using: &g), size: .random(in: 0...(1 << 33), using: &g))
            }
            let kept = (0..<Int.random(in: 0...4, using: &g)).map { _ in
                PhysicalRange(base: .random(in: 0...(1 << 36), using: &g), size: .random(in: 0...(1 << 24), using: &g))
            }
            let limit = UInt64.random(in: 0...(1 << 40), using: &g)
            let ranges = DeviceAddressSpace.ranges(memory: memory, kept: kept, limit: limit)
            var previousEnd: UInt64 = 0
            for r in ranges {
                XCTAssertTrue(r.size > 0 && r.base % 4096 == 0 && r.size % 4096 == 0 && r.base >= previousEnd && r.end <= limit, "\(r)")
                for m in memory + kept where m.size > 0 { XCTAssertFalse(m.base < r.end && r.base < m.end, "\(r) overlaps \(m)") }
                previousEnd = r.end
            }
        }
    }
}
