import Dispatch
import Glibc
import KernelABI
import Sim
import XCTest
@testable import Kernel

/// What booting costs the kernel on a QEMU-sized machine (512 MiB): the root PD gets one capability object per
/// I/O port (65,536) and one per page of free RAM. Prints the heap bytes and the (debug build) boot time; asserts
/// the capability count and a per-capability heap bound, so a fatter `Capability` shows up here.
final class BootCostTests: XCTestCase {
    func testRootCapabilitiesOnA512MiBMachine() throws {
        let heapBefore = Self.heapBytesInUse()
        let start = DispatchTime.now().uptimeNanoseconds
        let h = try KernelHarness(memorySize: 512 << 20)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // The simulated RAM is host heap too: the pages the boot wrote (page tables, the bundle) are not the kernel's.
        let simulatedRAM = h.machine.memory.touchedPageCount * (Int(SimPhysicalMemory.pageSize) + 48)
        let kernelHeap = Self.heapBytesInUse() - heapBefore - simulatedRAM

        let root = h.rootPD
        let capabilities = root.space.objects.count + root.space.memory.count + root.space.io.count
        let capabilityObject = Self.usableSize(root.space.io[0x3f8]!)
        print("boot on 512 MiB: \(root.space.memory.count) memory + \(root.space.io.count) I/O + "
              + "\(root.space.objects.count) object capabilities; kernel heap \(kernelHeap / 1024) KiB "
              + "(\(kernelHeap / capabilities) bytes per capability, of which \(capabilityObject) the object itself), "
              + "boot \(String(format: "%.2f", seconds)) s (debug build, simulator)")

        XCTAssertEqual(root.space.io.count, 65536)
        let freePages = Int(h.kernel.rootWindow.reduce(0) { $0 + $1.size } / AddressLayout.pageSize)
        XCTAssertGreaterThanOrEqual(root.space.memory.count, freePages, "every window page is a capability")
        XCTAssertLessThanOrEqual(capabilityObject, 72, "a Capability object grew")
        XCTAssertGreaterThan(kernelHeap, capabilities * capabilityObject, "the heap holds at least the objects")
        XCTAssertLessThan(kernelHeap, capabilities * 128, "heap per capability (object, dictionary slot) grew")
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
