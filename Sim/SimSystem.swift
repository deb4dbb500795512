import BootFormat
import Kernel
import KernelABI

/// Why a `SimSystem` could not be built. Every case says what was wrong.
public enum SimSystemError: Error, Equatable, CustomStringConvertible {
    case badBundle(BootBundleError)
    case bundleHasNoRootTask
    /// The bundle does not fit in the machine's RAM with room left for the kernel.
    case memoryTooSmall(needed: UInt64, available: UInt64)
    case bootFailed(BootError)

    public var description: String {
        switch self {
        case .badBundle(let e): return "sim: boot bundle: \(e)"
        case .bundleHasNoRootTask: return "sim: boot bundle has no \"roottask\" module"
        case .memoryTooSmall(let needed, let available):
            return "sim: the bundle needs \(simHex(needed)) bytes of RAM, the machine has \(simHex(available))"
        case .bootFailed(let e): return "sim: \(e)"
        }
    }
}

/// A booted simulated system: a machine with COM1 (16550, irq 4) and a debug-exit port (0xf4), the bundle in
/// physical memory, and the real kernel on `SimPlatform`, booted the way the image boots it. Nothing is global,
/// so any number of systems can run in one process.
///
/// Physical layout: the first MiB is left out (as on a PC); the bundle starts at 1 MiB; the root image is the
/// bundle's "roottask" module in place; all RAM after the bundle is free memory for the kernel.
public final class SimSystem {
    public struct Options {
        public var memorySize: UInt64 = 64 << 20
        public var seed: UInt64 = 0
        public var ticksPerMillisecond: UInt64 = 1000
        public var interruptLines: UInt64 = 24
        /// The nested-table format of the machine's VMs (x86-64 as AMD NPT, or Intel EPT).
        public var nestedPaging: NestedPagingFormat = .x86_64
        /// Device memory and PCI configuration windows the kernel gives the root (BootConfiguration); none by default.
        public var deviceMemory: [PhysicalRange] = []
        public var configurationWindows: [ConfigurationWindow] = []
        public init() {}
    }

    /// Why `run` returned.
    public enum StopReason: Equatable, CustomStringConvertible {
        /// The caller's condition became true.
        case condition
        /// Nothing is ready and nothing could ever make anything ready.
        case idle
        case stepLimit
        /// The kernel did something the hardware would crash on.
        case kernelFault(String)
        /// A program wrote the debug-exit port (status as QEMU reports it).
        case debugExit(status: UInt64)

        public var description: String {
            switch self {
            case .condition: return "condition met"
            case .idle: return "idle: nothing can run"
            case .stepLimit: return "step limit reached"
            case .kernelFault(let what): return "kernel fault: \(what)"
            case .debugExit(let status): return "debug exit \(status)"
            }
        }
    }

    public static let bundleBase: UInt64 = 1 << 20

    public let machine: SimMachine
    public let platform: SimPlatform
    public let kernel: Kernel<SimPlatform>
    public let configuration: BootConfiguration
    public let serial = SimSerial16550(base: 0x3f8, irq: 4)
    public let debugExit = SimDebugExit(port: 0xf4)
    public private(set) var steps = 0

    /// Boots a bundle (BootFormat) whose "roottask" module is the root task's ELF; the other modules' programs
    /// must be in `programs` to run.
    public init(bundle: [UInt8], programs: SimProgramRegistry, options: Options = Options()) throws(SimSystemError) {
        let parsed: BootBundle
        do throws(BootBundleError) { parsed = try BootBundle.read(bundle) } catch { throw .badBundle(error) }
        guard let root = parsed.entry(named: "roottask") else { throw .bundleHasNoRootTask }

        let bundleEnd = Self.bundleBase + (UInt64(bundle.count) + 4095) / 4096 * 4096
        guard bundleEnd < options.memorySize else {
            throw .memoryTooSmall(needed: bundleEnd, available: options.memorySize)
        }
        machine = SimMachine(memorySize: options.memorySize, interruptLines: options.interruptLines,
                             seed: options.seed)
        do throws(SimPhysicalMemoryError) { try machine.memory.write(bundle, at: Self.bundleBase) } catch {
            throw .memoryTooSmall(needed: bundleEnd, available: options.memorySize)
        }
        machine.attach(serial)
        machine.attach(debugExit)
        platform = SimPlatform(machine: machine, programs: programs)
        platform.nestedPaging = options.nestedPaging
        configuration = BootConfiguration(
            freeMemory: [PhysicalRange(base: bundleEnd, size: options.memorySize - bundleEnd)],
            rootImage: PhysicalRange(base: Self.bundleBase + root.offset, size: root.size),
            bundle: PhysicalRange(base: Self.bundleBase, size: UInt64(bundle.count)),
            ticksPerMillisecond: options.ticksPerMillisecond,
            interruptCount: options.interruptLines, deviceMemory: options.deviceMemory,
            configurationWindows: options.configurationWindows)
        do throws(BootError) { kernel = try Kernel(platform: platform, configuration: configuration) } catch {
            throw .bootFailed(error)
        }
    }

    /// Boots `root` as the root task, with `programs` (and the root) bundled under their names.
    public convenience init(root: SimProgram, programs: [SimProgram] = [], extraModules: [(String, [UInt8])] = [],
                            options: Options = Options()) throws(SimSystemError) {
        var writer = BootBundleWriter()
        do throws(BootBundleError) {
            try writer.add(name: "roottask", data: root.image())
            for p in programs { try writer.add(name: p.name, data: p.image()) }
            for (name, data) in extraModules { try writer.add(name: name, data: data) }
        } catch { throw .badBundle(error) }
        try self.init(bundle: writer.bytes(), programs: SimProgramRegistry([root] + programs), options: options)
    }

    /// Runs kernel steps until `condition` holds (checked before every step), nothing can run any more, a kernel
    /// fault or debug exit, or `maxSteps` steps.
    @discardableResult
    public func run(maxSteps: Int = 100_000, until condition: (SimSystem) -> Bool = { _ in false }) -> StopReason {
        machine.idleForever = false
        for _ in 0..<maxSteps {
            if let fault = machine.kernelFault { return .kernelFault(fault) }
            if let status = debugExit.exitStatus { return .debugExit(status: status) }
            if condition(self) { return .condition }
            steps += 1
            if !kernel.step() || machine.idleForever { return .idle }
        }
        if let fault = machine.kernelFault { return .kernelFault(fault) }
        if let status = debugExit.exitStatus { return .debugExit(status: status) }
        return condition(self) ? .condition : .stepLimit
    }

    /// The kernel console (consoleWrite hypercall and kernel messages).
    public var consoleText: String { machine.consoleText }
    /// What went out of COM1.
    public var serialText: String { serial.outputText }
    public var trace: SimTrace { machine.trace }
}
