/// Encodes a `SystemDescription` into the compiled-manifest blob (`BlobLayout`). The description is written as
/// given: the manifest compiler validates it first, and `ManifestDecoder` checks every invariant again.
public enum ManifestEncoder {
    public static func encode(_ system: SystemDescription) -> [UInt8] {
        var w = BlobWriter()
        w.bytes.append(contentsOf: BlobLayout.magic)
        w.u32(BlobLayout.version)
        w.u32(0) // total length, patched below
        w.u32(0) // checksum, patched below
        w.index(system.components.count)
        w.index(system.vms.count)
        w.u32(0) // string table offset, patched below
        w.u32(0) // string table size, patched below
        w.u32(UInt32(truncatingIfNeeded: system.interruptCount))
        w.u64(system.machineMemory)

        for c in system.components { component(c, into: &w) }
        for vm in system.vms { virtualMachine(vm, into: &w) }

        let stringTableOffset = w.bytes.count
        w.bytes.append(contentsOf: w.strings)
        w.patchU32(UInt32(truncatingIfNeeded: stringTableOffset), at: BlobLayout.stringTableOffsetOffset)
        w.patchU32(UInt32(truncatingIfNeeded: w.strings.count), at: BlobLayout.stringTableSizeOffset)
        w.patchU32(UInt32(truncatingIfNeeded: w.bytes.count), at: BlobLayout.lengthOffset)
        let checksumField = BlobLayout.checksumOffset..<(BlobLayout.checksumOffset + 4)
        w.patchU32(CRC32.checksum(w.bytes, zeroing: checksumField), at: BlobLayout.checksumOffset)
        return w.bytes
    }

    private static func component(_ c: ComponentDescription, into w: inout BlobWriter) {
        w.string(c.name)
        w.string(c.binary)
        w.u64(c.memory)
        w.u64(c.priority)
        w.u64(c.budgetMilliseconds)
        w.u32((c.restartOnFault ? BlobLayout.restartOnFaultFlag : 0) | (c.isVMM ? BlobLayout.vmmFlag : 0))
        w.index(c.ioPorts.count)
        w.index(c.mmio.count)
        w.index(c.interrupts.count)
        w.index(c.provides.count)
        w.index(c.uses.count)
        w.index(c.dependsOn.count)
        w.index(c.pciDevices.count)
        for p in c.ioPorts {
            w.u64(p.first)
            w.u64(p.count)
        }
        for m in c.mmio {
            w.u64(m.base)
            w.u64(m.size)
        }
        for irq in c.interrupts { w.u64(irq) }
        for s in c.provides {
            w.string(s.name)
            w.string(s.kind)
        }
        for r in c.uses { route(r, into: &w) }
        for d in c.dependsOn { w.index(d) }
        for device in c.pciDevices {
            w.u32(device.kind)
            w.u32(device.value)
        }
    }

    private static func virtualMachine(_ vm: VirtualMachineDescription, into w: inout BlobWriter) {
        w.string(vm.name)
        w.index(vm.vmm)
        switch vm.image {
        case .kernel(let kernel, let initrd, let commandLine):
            w.u32(BlobLayout.kernelImageKind)
            w.string(kernel)
            w.string(initrd ?? ManifestString(bytes: []))
            w.string(commandLine)
        case .testImage(let image):
            w.u32(BlobLayout.testImageKind)
            w.string(image)
            w.string(ManifestString(bytes: []))
            w.string(ManifestString(bytes: []))
        }
        w.string(vm.diskService ?? vm.disk ?? ManifestString(bytes: []))
        w.u64(vm.memory)
        w.u64(vm.vcpus)
        w.u32((vm.nested ? BlobLayout.nestedFlag : 0) | (vm.diskService != nil ? BlobLayout.diskServiceFlag : 0))
        w.index(vm.services.count)
        for r in vm.services { route(r, into: &w) }
    }

    private static func route(_ r: ServiceRoute, into w: inout BlobWriter) {
        w.string(r.name)
        w.string(r.kind)
        w.index(r.provider)
        w.index(r.service)
    }
}
