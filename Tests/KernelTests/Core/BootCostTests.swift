import Dispatch
import Glibc
import KernelABI
import Sim
import XCTest
@testable import Kernel

/// What booting costs the kernel as RAM grows (512 MiB, 4 GiB, 16 GiB simulated machines): the root's memory
/// and ports are a handful of ranges, so the kernel heap and the page tables do not grow with RAM. Prints the heap,
/// the root's capability counts, its page-table frames and the (debug build) boot time; asserts the counts and the
/// heap bounds (under 1 MiB at 16 GiB, and flat in RAM size).
final class BootCostTests: XCTestCase {
    struct Cost {
        let memoryCapabilities: Int, ioCapabilities: Int, objectCapabilities: Int
        let kernelHeap: Int, tableFrames: Int, reservedFrames: UInt64
        let seconds: Double
    }

    func boot(_ memorySize: UInt64) throws -> Cost {
        let heapBefore = Self.heapBytesInUse()
        let start = DispatchTime.now().uptimeNanoseconds
        let h = try KernelHarness(memorySize: memorySize)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // The simulated RAM is host heap too: the pages the boot wrote (page tables, the bundle) are not the kernel's.
        let simulatedRAM = h.machine.memory.touchedPageCount * (Int(SimPhysicalMemory.pageSize) + 48)
        let kernelHeap = Self.heapBytesInUse() - heapBefore - simulatedRAM
        let root = h.rootPD
        XCTAssertEqual(h.kernel.invariantViolations(), [], "\(memorySize >> 20) MiB")
        return Cost(memoryCapabilities: root.space.memory.count, ioCapabilities: root.space.io.count,
                    objectCapabilities: root.space.objects.count, kernelHeap: kernelHeap,
                    tableFrames: root.tableFrames.count, reservedFrames: root.reservedFrames, seconds: seconds)
    }

    func testRootBootCostIsFlatInRAMSize() throws {
        var costs: [(UInt64, Cost)] = []
        for size: UInt64 in [512 << 20, 4 << 30, 16 << 30] {
            let cost = try boot(size)
            costs.append((size, cost))
            print("boot on \(size >> 20) MiB: root holds \(cost.memoryCapabilities) memory + \(cost.ioCapabilities) I/O + "
                  + "\(cost.objectCapabilities) object capabilities; kernel heap \(cost.kernelHeap / 1024) KiB, "
                  + "root page tables \(cost.tableFrames) frames (+\(cost.reservedFrames) reserved for splits), "
                  + "boot \(String(format: "%.3f", cost.seconds)) s (debug build, simulator)")
            XCTAssertEqual(cost.ioCapabilities, 1, "all ports are one range")
            // The image and stack pages are single pages; the window and the bundle are a few ranges per region.
            XCTAssertLessThan(cost.memoryCapabilities, 160, "\(size >> 20) MiB")
            XCTAssertLessThan(cost.tableFrames, 64, "\(size >> 20) MiB: the window maps with large pages")
        }
        let small = costs[0].1, large = costs[2].1
        XCTAssertLessThan(large.kernelHeap, 1 << 20, "kernel heap at 16 GiB")
        XCTAssertLessThan(large.kernelHeap - small.kernelHeap, 64 << 10, "the heap does not grow with RAM")
    }

    /// Bytes allocated with malloc, small and large (`mallinfo2`'s uordblks + hblkhd). glibc's `mallinfo2` is not
    /// in Swift's Glibc module; it returns its ten-word struct through a hidden pointer (the x86-64 System V
    /// convention for large structs), which is how it is called here.
    static func heapBytesInUse() -> Int {
        #if !(os(Linux) && arch(x86_64))
        #error("heapBytesInUse calls glibc's mallinfo2 with the x86-64 System V convention")
        #endif
        typealias MallInfo2 = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
        guard let symbol = dlsym(nil, "mallinfo2") else { fatalError("glibc has no mallinfo2") }
        let info = UnsafeMutableRawPointer.allocate(byteCount: 10 * 8, alignment: 8)
        defer { info.deallocate() }
        _ = unsafeBitCast(symbol, to: MallInfo2.self)(info)
        let mmapped = info.load(fromByteOffset: 4 * 8, as: Int.self), inUse = info.load(fromByteOffset: 7 * 8, as: Int.self)
        return mmapped + inUse
    }

    static func usableSize(_ object: AnyObject) -> Int {
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer) -> Int
        guard let symbol = dlsym(nil, "malloc_usable_size") else { fatalError("glibc has no malloc_usable_size") }
        return unsafeBitCast(symbol, to: UsableSize.self)(Unmanaged.passUnretained(object).toOpaque())
    }
}
