import KernelABI

/// The page the root task maps read-only at `ComponentLayout.startInfo` in every component; the component's main EC
/// starts with `rdi` = its address (or 0 where the kernel does not set it: the address is fixed). It names everything the component was given. All fields are 64-bit words:
///   0 magic `ComponentStartInfo.magic`, 1 version, 2 the binary's ELF entry (entry table base, see `EntryTable`),
///   3 heap base, 4 heap size in bytes, 5 timer ticks per millisecond,
///   6 used-service count U, 7 provided-service count V, 8 port-range count, 9 MMIO count, 10 interrupt count,
///   11 VM count (VMMs only), 12..15 the component's name (`nameWords` words of NUL-padded bytes),
///   16 flags (bit 0 `dmaTranslated`), then U used services (name, portal selector), V provided services (name, landing selector: where the root
///   task wants the service's portal delegated when it is registered), port ranges (first, count),
///   MMIO ranges (physical base, size, virtual address), interrupts (irq, semaphore selector),
///   VMs the component runs (name, image module name, initrd module name, disk service name (the used service
///   that serves the virtio-blk disk; empty: none), memory bytes, vCPU count, flags: bit 0 nested, bit 1 a
///   kernel rather than a test image; RAM address; image, initrd and disk module address and size (0, 0: none);
///   the command line's length L, then L bytes NUL-padded to whole words).
public struct ComponentStartInfo: Equatable, Sendable {
    public static let magic: UInt64 = 0x4954_5241_5453_5648 // "HVSTARTI"
    /// 3: the flags word (DMA translation) and VM records with the disk service's name.
    public static let version: UInt64 = 3
    /// Names are stored in this many words (so at most `nameWords * 8` bytes).
    public static let nameWords = 4
    public static let maxNameBytes = nameWords * 8
    static let headerWords = 12 + nameWords + 1
    /// Words of one VM record without its command line.
    static let vmWords = 4 * nameWords + 11

    public struct UsedService: Equatable, Sendable {
        public var name: [UInt8]
        public var portal: UInt64
        public init(name: [UInt8], portal: UInt64) {
            self.name = name
            self.portal = portal
        }
    }

    public struct ProvidedService: Equatable, Sendable {
        public var name: [UInt8]
        /// The selector in the root task's space that the registration's typed item must name as its destination.
        public var landing: UInt64
        public init(name: [UInt8], landing: UInt64) {
            self.name = name
            self.landing = landing
        }
    }

    public struct PortGrant: Equatable, Sendable {
        public var first: UInt64
        public var count: UInt64
        public init(first: UInt64, count: UInt64) {
            self.first = first
            self.count = count
        }
    }

    public struct MMIOGrant: Equatable, Sendable {
        public var physicalBase: UInt64
        public var size: UInt64
        public var virtualAddress: UInt64
        public init(physicalBase: UInt64, size: UInt64, virtualAddress: UInt64) {
            self.physicalBase = physicalBase
            self.size = size
            self.virtualAddress = virtualAddress
        }
    }

    /// A VM a VMM component runs, as the manifest describes it.
    public struct VirtualMachine: Equatable, Sendable {
        public var name: [UInt8]
        /// The boot bundle module of the guest's kernel or test image.
        public var image: [UInt8]
        public var memory: UInt64
        public var vcpus: UInt64
        public var nested: Bool
        /// The manifest says `kernel` (a Linux or Multiboot kernel, which may take initrd, command line and disk)
        /// rather than `test_image`.
        public var isKernel: Bool
        /// Where the VMM sees the guest's RAM (`memory` bytes, guest-physical 0 onwards, read/write) and the guest
        /// image module (`imageSize` bytes, read-only); 0 when the root task gave none.
        public var ramAddress: UInt64
        public var imageAddress: UInt64
        public var imageSize: UInt64
        /// The initrd module's name, and where the initrd and disk modules are (read-only; address 0: none).
        public var initrdName: [UInt8]
        public var initrdAddress: UInt64
        public var initrdSize: UInt64
        public var diskAddress: UInt64
        public var diskSize: UInt64
        /// The name of the used service (in `uses`, kind `block`) that serves the disk instead of a module; empty
        /// when the disk is a module or there is none.
        public var diskService: [UInt8]
        public var commandLine: [UInt8]
        public init(name: [UInt8], image: [UInt8], memory: UInt64, vcpus: UInt64, nested: Bool, isKernel: Bool = false,
                    ramAddress: UInt64 = 0, imageAddress: UInt64 = 0, imageSize: UInt64 = 0,
                    initrdName: [UInt8] = [], initrdAddress: UInt64 = 0, initrdSize: UInt64 = 0, diskAddress: UInt64 = 0, diskSize: UInt64 = 0,
                    diskService: [UInt8] = [], commandLine: [UInt8] = []) {
            self.name = name
            self.image = image
            self.memory = memory
            self.vcpus = vcpus
            self.nested = nested
            self.isKernel = isKernel
            self.ramAddress = ramAddress
            self.imageAddress = imageAddress
            self.imageSize = imageSize
            self.initrdName = initrdName
            self.initrdAddress = initrdAddress
            self.initrdSize = initrdSize
            self.diskAddress = diskAddress
            self.diskSize = diskSize
            self.diskService = diskService
            self.commandLine = commandLine
        }

        /// Words of this record in the page.
        var words: Int { ComponentStartInfo.vmWords + (commandLine.count + 7) / 8 }
    }

    public struct InterruptGrant: Equatable, Sendable {
        public var irq: UInt64
        public var semaphore: UInt64
        public init(irq: UInt64, semaphore: UInt64) {
            self.irq = irq
            self.semaphore = semaphore
        }
    }

    public var name: [UInt8]
    public var entry: UInt64
    public var heapBase: UInt64
    public var heapSize: UInt64
    public var ticksPerMillisecond: UInt64
    public var uses: [UsedService]
    /// The services the component must register (in the manifest's order; the index is the service id).
    public var provides: [ProvidedService]
    public var ports: [PortGrant]
    public var mmio: [MMIOGrant]
    public var interrupts: [InterruptGrant]
    public var vms: [VirtualMachine]
    /// The component's PCI devices are bound to its PD by the IOMMU: the addresses it gives them for DMA are its
    /// own virtual addresses (false: physical addresses, and its DMA is not confined).
    public var dmaTranslated = false

    public init(name: [UInt8], entry: UInt64, heapBase: UInt64, heapSize: UInt64, ticksPerMillisecond: UInt64,
                uses: [UsedService] = [], provides: [ProvidedService] = [], ports: [PortGrant] = [], mmio: [MMIOGrant] = [],
                interrupts: [InterruptGrant] = [], vms: [VirtualMachine] = []) {
        self.name = name
        self.entry = entry
        self.heapBase = heapBase
        self.heapSize = heapSize
        self.ticksPerMillisecond = ticksPerMillisecond
        self.uses = uses
        self.provides = provides
        self.ports = ports
        self.mmio = mmio
        self.interrupts = interrupts
        self.vms = vms
    }

    /// How many words `words` will hold; the page has room for `UTCBLayout.totalWords` (512).
    public var wordCount: Int {
        Self.headerWords + (uses.count + provides.count) * (Self.nameWords + 1) + ports.count * 2
            + mmio.count * 3 + interrupts.count * 2 + vms.reduce(0) { $0 + $1.words }
    }
    public static let maxWords = 512

    public enum EncodeError: Error, Equatable, Sendable {
        case nameTooLong([UInt8])
        case tooManyEntries(words: Int)
    }

    /// The page contents. Fails when a name does not fit its field or the lists do not fit in one page.
    public func words() throws(EncodeError) -> [UInt64] {
        guard wordCount <= Self.maxWords else { throw .tooManyEntries(words: wordCount) }
        var w: [UInt64] = [Self.magic, Self.version, entry, heapBase, heapSize, ticksPerMillisecond,
                           UInt64(uses.count), UInt64(provides.count), UInt64(ports.count), UInt64(mmio.count),
                           UInt64(interrupts.count), UInt64(vms.count)]
        try Self.appendName(name, to: &w)
        w.append(dmaTranslated ? 1 : 0)
        for u in uses {
            try Self.appendName(u.name, to: &w)
            w.append(u.portal)
        }
        for p in provides {
            try Self.appendName(p.name, to: &w)
            w.append(p.landing)
        }
        for p in ports { w.append(p.first); w.append(p.count) }
        for m in mmio { w.append(m.physicalBase); w.append(m.size); w.append(m.virtualAddress) }
        for i in interrupts { w.append(i.irq); w.append(i.semaphore) }
        for vm in vms {
            try Self.appendName(vm.name, to: &w)
            try Self.appendName(vm.image, to: &w)
            try Self.appendName(vm.initrdName, to: &w)
            try Self.appendName(vm.diskService, to: &w)
            w.append(vm.memory); w.append(vm.vcpus); w.append((vm.nested ? 1 : 0) | (vm.isKernel ? 2 : 0))
            w.append(vm.ramAddress); w.append(vm.imageAddress); w.append(vm.imageSize)
            w.append(vm.initrdAddress); w.append(vm.initrdSize); w.append(vm.diskAddress); w.append(vm.diskSize)
            w.append(UInt64(vm.commandLine.count))
            for i in stride(from: 0, to: vm.commandLine.count, by: 8) {
                var word: UInt64 = 0
                for b in 0..<min(8, vm.commandLine.count - i) { word |= UInt64(vm.commandLine[i + b]) << UInt64(8 * b) }
                w.append(word)
            }
        }
        return w
    }

    static func appendName(_ name: [UInt8], to words: inout [UInt64]) throws(EncodeError) {
        guard name.count <= maxNameBytes else { throw .nameTooLong(name) }
        for i in 0..<nameWords {
            var word: UInt64 = 0
            for b in 0..<8 where i * 8 + b < name.count { word |= UInt64(name[i * 8 + b]) << UInt64(8 * b) }
            words.append(word)
        }
    }

    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        case badMagic(UInt64)
        case badFlags(UInt64)
        case badVersion(UInt64)
        case tooManyEntries(words: Int)

        public var description: String {
            switch self {
            case .badMagic: return "start-info page has a bad magic word"
            case .badFlags(let f): return "start-info page has unknown flags 0x\(String(f, radix: 16))"
            case .badVersion(let v): return "start-info page version \(v) is not supported (expected \(ComponentStartInfo.version))"
            case .tooManyEntries(let n): return "start-info page lists \(n) words, more than one page holds"
            }
        }
    }

    /// Decodes the page from a word reader (`word(i)` is only called for i < `maxWords`).
    public static func decode(_ word: (Int) -> UInt64) throws(DecodeError) -> ComponentStartInfo {
        guard word(0) == magic else { throw .badMagic(word(0)) }
        guard word(1) == version else { throw .badVersion(word(1)) }
        let counts = (6...11).map { word($0) }
        // Bound each count before multiplying, so a hostile page cannot overflow the size computation.
        guard counts.allSatisfy({ $0 <= UInt64(maxWords) }) else { throw .tooManyEntries(words: Int.max) }
        let u = Int(counts[0]), v = Int(counts[1]), p = Int(counts[2]), m = Int(counts[3]), n = Int(counts[4])
        let vmCount = Int(counts[5])
        let total = headerWords + (u + v) * (nameWords + 1) + p * 2 + m * 3 + n * 2 + vmCount * vmWords
        guard total <= maxWords else { throw .tooManyEntries(words: total) }

        var at = 12
        func name() -> [UInt8] {
            var bytes: [UInt8] = []
            for i in 0..<nameWords {
                let w = word(at + i)
                for b in 0..<8 {
                    let byte = UInt8(truncatingIfNeeded: w >> UInt64(8 * b))
                    if byte != 0 { bytes.append(byte) }
                }
            }
            at += nameWords
            return bytes
        }
        func next() -> UInt64 {
            at += 1
            return word(at - 1)
        }
        var info = ComponentStartInfo(name: name(), entry: word(2), heapBase: word(3), heapSize: word(4),
                                      ticksPerMillisecond: word(5))
        let flags = next()
        guard flags & ~1 == 0 else { throw .badFlags(flags) }
        info.dmaTranslated = flags & 1 != 0
        for _ in 0..<u { info.uses.append(UsedService(name: name(), portal: next())) }
        for _ in 0..<v { info.provides.append(ProvidedService(name: name(), landing: next())) }
        for _ in 0..<p { info.ports.append(PortGrant(first: next(), count: next())) }
        for _ in 0..<m { info.mmio.append(MMIOGrant(physicalBase: next(), size: next(), virtualAddress: next())) }
        for _ in 0..<n { info.interrupts.append(InterruptGrant(irq: next(), semaphore: next())) }
        var left = maxWords - total  // words the command lines may still take
        for _ in 0..<vmCount {
            let vmName = name(), image = name(), initrdName = name(), diskService = name()
            let memory = next(), vcpus = next(), flags = next()
            var vm = VirtualMachine(name: vmName, image: image, memory: memory, vcpus: vcpus, nested: flags & 1 != 0,
                                    isKernel: flags & 2 != 0, ramAddress: next(), imageAddress: next(),
                                    imageSize: next(), initrdName: initrdName, initrdAddress: next(), initrdSize: next(),
                                    diskAddress: next(), diskSize: next(), diskService: diskService)
            let length = next()
            guard length <= UInt64(left * 8) else { throw .tooManyEntries(words: maxWords + 1) }
            let lineWords = Int((length + 7) / 8)
            left -= lineWords
            for i in 0..<Int(length) {
                vm.commandLine.append(UInt8(truncatingIfNeeded: word(at + i / 8) >> UInt64(8 * (i % 8))))
            }
            at += lineWords
            info.vms.append(vm)
        }
        return info
    }

    /// Where a component's main entry finds its page: `rdi` when the kernel passed it, else the fixed address (the
    /// page is always mapped at `ComponentLayout.startInfo`).
    public static func address(entryArgument: UInt64) -> UInt64 {
        entryArgument != 0 ? entryArgument : ComponentLayout.startInfo
    }

    /// Reads the page at `address` in the running PD.
    public static func read<P: UserPlatform>(_ platform: P, at address: UInt64) throws(DecodeError) -> ComponentStartInfo {
        try decode { platform.load64(address + UInt64($0) * 8) }
    }

    /// The portal selector of the used service called `name`.
    public func portal(forService name: StaticString) -> UInt64? {
        portal(forService: name.withUTF8Buffer { Array($0) })
    }

    /// The same for a name known only at run time (a VM's disk service).
    public func portal(forService name: [UInt8]) -> UInt64? {
        uses.first { $0.name == name }?.portal
    }

    /// The id (its index) and landing selector of the provided service called `name`, to pass when registering it.
    public func providedService(named name: StaticString) -> (id: UInt64, landing: UInt64)? {
        let bytes = name.withUTF8Buffer { Array($0) }
        guard let index = provides.firstIndex(where: { $0.name == bytes }) else { return nil }
        return (UInt64(index), provides[index].landing)
    }
}
