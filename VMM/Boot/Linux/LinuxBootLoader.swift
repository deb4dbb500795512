import DeviceModels

/// Sets up a Linux guest by the 64-bit boot protocol (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"): the
/// protected-mode kernel at its preferred address (or, when relocatable and that does not fit, the lowest
/// kernel_alignment-aligned address from 1 MiB), the initrd page-aligned as high as it can go below
/// min(initrd_addr_max, the end of RAM) and above the kernel's init_size, boot_params with the e820 map and the ACPI
/// RSDP, the command line, the ACPI tables, page tables and GDT (`LowMemoryLayout`). The entry is the load address
/// + 0x200 with rsi = boot_params. Nothing is written before everything has been checked to fit.
public enum LinuxBootLoader {
    static let copyChunk: UInt64 = 0x1_0000

    /// `kernelByte` reads the bzImage `image` was parsed from, `initrdByte` the initrd (`initrdSize` 0: none);
    /// both are called only for offsets below their sizes.
    public static func load<M: GuestPhysicalMemory>(
        image: LinuxImage, kernelByte: (UInt64) -> UInt8, initrdSize: UInt64, initrdByte: (UInt64) -> UInt8,
        commandLine: String, platform: GuestPlatform, into memory: M
    ) throws(LinuxBootError) -> LinuxBootPlan {
        let e820: E820Map
        do throws(E820Error) { e820 = try E820Map(ramSize: memory.size, platform: platform) } catch { throw .memoryMap(error) }
        let acpi: ACPITables
        do throws(ACPIError) { acpi = try ACPITables(platform: platform) } catch { throw .acpi(error) }
        let acpiRoom = LowMemoryLayout.acpiTablesEnd - LowMemoryLayout.acpiTables
        guard UInt64(acpi.bytes.count) <= acpiRoom else { throw .acpiTablesTooLarge(size: acpi.bytes.count, room: acpiRoom) }

        let commandBytes = [UInt8](commandLine.utf8)
        if let nul = commandBytes.firstIndex(of: 0) { throw .commandLineHasNUL(index: nul) }
        let commandLimit = min(image.commandLineLimit, LowMemoryLayout.commandLineCapacity - 1)
        guard UInt64(commandBytes.count) <= commandLimit else {
            throw .commandLineTooLong(length: commandBytes.count, limit: commandLimit)
        }

        let high = e820.highRAM
        let kernelAddress = try placeKernel(image, in: high)
        let kernelEnd = kernelAddress + image.initSize
        var initrdAddress: UInt64 = 0
        if initrdSize > 0 {
            let limit = min(image.initrdAddressMax &+ 1, high.end)
            guard initrdSize <= limit, (limit - initrdSize) & ~0xfff >= kernelEnd else {
                throw .initrdDoesNotFit(size: initrdSize, lowest: kernelEnd, limit: limit)
            }
            initrdAddress = (limit - initrdSize) & ~0xfff
        }

        let layout = LowMemoryLayout.self
        var regions = [
            BootRegion(name: "GDT", address: layout.gdt, size: layout.gdtSize, requiredType: .usable),
            BootRegion(name: "boot_params", address: layout.zeroPage, size: layout.zeroPageSize, requiredType: .usable),
            BootRegion(name: "command line", address: layout.commandLine, size: layout.commandLineCapacity, requiredType: .usable),
            BootRegion(name: "boot stack", address: layout.stackBottom, size: layout.stackTop - layout.stackBottom, requiredType: .usable),
            BootRegion(name: "page tables", address: layout.pml4, size: layout.pageTablesEnd - layout.pml4, requiredType: .usable),
            BootRegion(name: "ACPI tables", address: acpi.base, size: UInt64(acpi.bytes.count), requiredType: .reserved),
            BootRegion(name: "kernel (init_size)", address: kernelAddress, size: image.initSize, requiredType: .usable),
        ]
        if initrdSize > 0 {
            regions.append(BootRegion(name: "initrd", address: initrdAddress, size: initrdSize, requiredType: .usable))
        }
        try check(regions, against: e820)

        let bootParams = BootParams.make(image: image, BootParams.Contents(
            kernelAddress: kernelAddress, commandLineAddress: layout.commandLine, initrdAddress: initrdAddress,
            initrdSize: initrdSize, rsdpAddress: acpi.rsdpAddress, e820: e820))
        try write(memory, "GDT", layout.gdt, LongModeStructures.gdt())
        try write(memory, "boot_params", layout.zeroPage, bootParams)
        try write(memory, "command line", layout.commandLine,
                  commandBytes + [UInt8](repeating: 0, count: Int(layout.commandLineCapacity) - commandBytes.count))
        for (i, page) in LongModeStructures.pageTables().enumerated() {
            try write(memory, "page tables", layout.pml4 + UInt64(i) * 0x1000, page)
        }
        try write(memory, "ACPI tables", acpi.base, acpi.bytes)
        try copy(memory, "kernel", to: kernelAddress, count: image.kernelSize) { kernelByte(image.setupSize + $0) }
        try copy(memory, "initrd", to: initrdAddress, count: initrdSize, initrdByte)

        return LinuxBootPlan(
            rip: kernelAddress + LinuxImage.entry64Offset, rsi: layout.zeroPage, rsp: layout.stackTop,
            cr0: LongModeStructures.cr0, cr3: layout.pml4, cr4: LongModeStructures.cr4, efer: LongModeStructures.efer,
            gdtBase: layout.gdt, gdtLimit: UInt16(layout.gdtSize - 1),
            codeSelector: LongModeStructures.codeSelector, dataSelector: LongModeStructures.dataSelector,
            codeAttributes: LongModeStructures.codeAttributes, dataAttributes: LongModeStructures.dataAttributes,
            kernelAddress: kernelAddress, commandLineAddress: layout.commandLine, commandLineLength: commandBytes.count,
            initrdAddress: initrdAddress, initrdSize: initrdSize, e820: e820, acpi: acpi, regions: regions)
    }

    /// The preferred address if it is usable, else (relocatable kernels) the lowest aligned one from 1 MiB.
    static func placeKernel(_ image: LinuxImage, in high: E820Entry) throws(LinuxBootError) -> UInt64 {
        func fits(_ address: UInt64) -> Bool {
            let (end, wraps) = address.addingReportingOverflow(image.initSize)
            return address >= high.address && !wraps && end <= high.end
        }
        let preferred = image.preferredAddress
        let alignment = image.kernelAlignment
        if !image.relocatable {
            guard fits(preferred) else {
                throw .kernelDoesNotFit(address: preferred, initSize: image.initSize, ramSize: high.end)
            }
            return preferred
        }
        if preferred % alignment == 0, fits(preferred) { return preferred }
        let lowest = (high.address + alignment - 1) & ~(alignment - 1)
        guard fits(lowest) else { throw .kernelDoesNotFit(address: lowest, initSize: image.initSize, ramSize: high.end) }
        return lowest
    }

    static func check(_ regions: [BootRegion], against e820: E820Map) throws(LinuxBootError) {
        for (i, region) in regions.enumerated() {
            guard e820.type(of: region.address, size: region.size) == region.requiredType else {
                throw .wrongMemoryType(region: region.name, address: region.address, size: region.size)
            }
            for other in regions[(i + 1)...] where region.overlaps(other) {
                throw .overlap(region.name, other.name)
            }
        }
    }

    static func write<M: GuestPhysicalMemory>(_ memory: M, _ region: String, _ address: UInt64,
                                              _ bytes: [UInt8]) throws(LinuxBootError) {
        guard memory.write(address, bytes) else { throw .memoryWriteFailed(region: region, address: address) }
    }

    static func copy<M: GuestPhysicalMemory>(_ memory: M, _ region: String, to address: UInt64, count: UInt64,
                                             _ byte: (UInt64) -> UInt8) throws(LinuxBootError) {
        var done: UInt64 = 0
        while done < count {
            let n = min(copyChunk, count - done)
            let chunk = (0..<n).map { byte(done + $0) }
            try write(memory, region, address + done, chunk)
            done += n
        }
    }
}
