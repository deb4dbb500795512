import XCTest
import Kernel
import ELFFormat
@testable import Sim

/// A minimal stand-in for the kernel: one address space built with `SimPageTableBuilder`, program images loaded
/// with the ELF parser, and direct calls to `SimPlatform.enterUser`.
final class SimUserTestHarness {
    let platform: SimPlatform
    let tables: SimPageTableBuilder
    private var nextFrame: UInt64 = 0x40_0000
    var machine: SimMachine { platform.machine }

    init(_ programs: [SimProgram], seed: UInt64 = 0) throws {
        platform = SimPlatform(machine: SimMachine(memorySize: 32 << 20, seed: seed),
                               programs: SimProgramRegistry(programs))
        tables = try SimPageTableBuilder(memory: platform.machine.memory, tablePool: 0x10_0000..<0x40_0000)
    }

    func frame() -> UInt64 {
        defer { nextFrame += 4096 }
        return nextFrame
    }

    /// Loads the program's image at `base` and returns a context entering it.
    func load(_ program: SimProgram, base: UInt64 = SimProgramImage.defaultBase, executable: Bool = true) throws
        -> UserContext {
        let bytes = program.image(base: base)
        let image = try ELFImage(bytes: bytes)
        for segment in image.segments {
            var page = segment.firstPage
            while page < segment.endPage {
                let target = frame()
                for offset in 0..<UInt64(4096) {
                    if let at = segment.fileOffset(ofVirtual: page + offset) {
                        try machine.memory.write8(target + offset, bytes[Int(at)])
                    }
                }
                try tables.map(page, to: target, writable: segment.writable, user: true,
                               executable: segment.executable && executable)
                page += 4096
            }
        }
        var context = UserContext()
        context.rip = image.entry
        context.addressSpaceRoot = tables.root
        return context
    }

    @discardableResult
    func mapData(_ virtual: UInt64, writable: Bool = true) throws -> UInt64 {
        let target = frame()
        try tables.map(virtual, to: target, writable: writable, user: true, executable: false)
        return target
    }

    func enter(_ context: inout UserContext, ports: [UInt16] = []) -> Exit {
        var bitmap = IOPermissionBitmap()
        for p in ports { bitmap.set(UInt64(p), allowed: true) }
        return platform.enterUser(&context, ioPermissions: ports.isEmpty ? nil : bitmap)
    }
}
