import KernelABI
import Sim
import UserRuntime
import XCTest

/// A driver of a level-triggered line that dies between its interrupt and its next wait: the root task releases
/// the line at teardown, so the restarted driver is granted it again (assign_int of a line still assigned would be
/// `badState`), and the device, still asserting the line, wakes the new driver at once (nothing lost, nothing stale).
final class InterruptRestartBootTests: XCTestCase {
    final class Record {
        var incarnations = 0
        var firstWoken = false
        var secondDown: Status?
        var secondTimedDown: Status?
        var machine: SimMachine?
    }

    static let irq: UInt64 = 10

    func leveldev(_ record: Record) -> SimProgram {
        SimProgram(name: "leveldev", main: { platform, rdi in
            record.incarnations += 1
            let sys = SystemCalls(platform)
            let info = try! ComponentStartInfo.read(platform, at: ComponentStartInfo.address(entryArgument: rdi))
            let sm = info.interrupts[0].semaphore
            if record.incarnations == 1 {
                record.firstWoken = sys.down(sm: sm) == .success
                _ = platform.load64(8) // dies without servicing the device: the line stays asserted and held
            }
            record.secondDown = sys.down(sm: sm)
            record.machine?.interrupts.setLevel(InterruptRestartBootTests.irq, asserted: false) // services the device
            record.secondTimedDown = sys.down(sm: sm, deadline: platform.timestamp() + 50_000)
            while sys.down(sm: sm) == .success {}
        })
    }

    func testALevelLineIsReleasedAtTeardownAndGrantedToTheRestartedDriver() throws {
        let record = Record()
        let source = """
        [[component]]
        name = "leveldev"
        binary = "leveldev"
        memory = 256K
        interrupts = [10]
        restart_on_fault = true
        """
        let blob = try SimBoot.compile(source, knownBinaries: ["leveldev"])
        let system = try SimBoot.system(manifest: blob, programs: [leveldev(record)])
        record.machine = system.machine
        system.machine.interrupts.setTrigger(Self.irq, .level) // as on q35 (ACPI MADT: level, active high)
        system.machine.schedule(after: 200_000, "device asserts irq 10") { $0.interrupts.setLevel(Self.irq, asserted: true) }
        let stop = system.run(maxSteps: 2_000_000) { _ in record.secondTimedDown != nil }
        XCTAssertEqual(stop, .condition, system.consoleText)
        XCTAssertTrue(record.firstWoken)
        XCTAssertEqual(record.incarnations, 2)
        XCTAssertTrue(system.consoleText.contains("root: restarting leveldev (restart 1 of 3)"), system.consoleText)
        XCTAssertFalse(system.consoleText.contains("cannot restart"), system.consoleText)
        XCTAssertEqual(record.secondDown, .success, "the still-asserted line wakes the restarted driver")
        XCTAssertEqual(record.secondTimedDown, .timeout, "no stale interrupt from the first incarnation")
    }
}
