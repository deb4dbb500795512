import ManifestFormat
import ManifestLanguage
import XCTest

/// Behaviour of the compiler as a whole that the single-change corpus cannot show.
final class ManifestCompilerTests: XCTestCase {
    func compile(_ source: String, binaries: Set<String> = ["a", "b", "v", "t"]) -> Result<CompiledManifest, ManifestErrors> {
        ManifestCompiler.compile(source: source, file: "m.toml", machineMemory: 512 << 20, binaryExists: { binaries.contains($0) })
    }

    /// Several unrelated mistakes come back together, sorted by position.
    func testAllErrorsAtOnce() {
        let result = compile("""
        [[component]]
        name = "a"
        binary = "missing"
        memory = 1M
        priorty = 3
        interrupts = [4]

        [[component]]
        name = "b"
        binary = "b"
        memory = 600M
        interrupts = [4]
        """)
        guard case .failure(let errors) = result else { return XCTFail() }
        XCTAssertEqual(errors.diagnostics.map { $0.description }, [
            "m.toml:3:10: error: binary 'missing' of component 'a' does not exist (or is not a regular file); build it or correct the name",
            "m.toml:5:1: error: unknown key 'priorty' in [[component]]; did you mean 'priority'?",
            "m.toml:11:10: error: memory quotas exceed the machine: components and VMs need 601M but the machine has 512M (the total passes the limit here); reduce quotas by 89M",
            "m.toml:11:10: error: memory quotas leave too little for the kernel and the root task on q35 + OVMF with 512M: quotas 601M + kernel quotas of the components 512K + kernel image 8M + kernel heap 32M + root task 2M = 643.50M (674758656 bytes), but 511M of RAM is usable (the total passes it here)",
            "m.toml:12:15: error: interrupt 4 is claimed twice: by component 'b' here and by component 'a' (at 6:15); give each interrupt to one component only",
        ])
        XCTAssertEqual(errors.description.split(separator: "\n").count, 5)
    }

    func testLongerCycleIsNamedStepByStep() {
        let result = compile("""
        [[component]]
        name = "a"
        binary = "a"
        memory = 1M
        depends_on = ["b"]
        [[component]]
        name = "b"
        binary = "b"
        memory = 1M
        [[component.uses]]
        name = "log"
        provider = "c"
        [[component]]
        name = "c"
        binary = "a"
        memory = 1M
        depends_on = ["a"]
        [[component.provides]]
        name = "log"
        """)
        guard case .failure(let errors) = result else { return XCTFail() }
        XCTAssertEqual(errors.diagnostics.map { $0.description }, [
            "m.toml:5:15: error: start-up dependency cycle: 'a' depends on 'b', 'b' uses 'log' of 'c', 'c' depends on 'a'; remove one of these dependencies",
        ])
    }

    func testUsingItsOwnServiceIsACycle() {
        let result = compile("""
        [[component]]
        name = "a"
        binary = "a"
        memory = 1M
        [[component.provides]]
        name = "log"
        [[component.uses]]
        name = "log"
        """)
        guard case .failure(let errors) = result else { return XCTFail() }
        XCTAssertEqual(errors.diagnostics.map { $0.description }, [
            "m.toml:8:8: error: start-up dependency cycle: 'a' uses 'log' of 'a'; remove one of these dependencies",
        ])
    }

    func testProvidersStartBeforeUsersAndVMMsAfterTheirVMsServices() throws {
        let compiled = try compile("""
        [[component]]
        name = "v"
        binary = "v"
        vmm = true
        memory = 1M
        [[component]]
        name = "user"
        binary = "a"
        memory = 1M
        [[component.uses]]
        name = "log"
        [[component]]
        name = "logger"
        binary = "b"
        memory = 1M
        [[component.provides]]
        name = "log"
        [[vm]]
        name = "g"
        vmm = "v"
        test_image = "t"
        memory = 4M
        [[vm.services]]
        name = "log"
        """).get()
        XCTAssertEqual(compiled.system.components.map { $0.name.description }, ["logger", "v", "user"])
        XCTAssertEqual(compiled.system.vms[0].vmm, 1)
        XCTAssertEqual(compiled.binaries, ["b", "v", "a", "t"])
    }

    func testEmptyManifestIsAnError() {
        guard case .failure(let errors) = compile("# nothing here\n") else { return XCTFail() }
        XCTAssertEqual(errors.diagnostics.map { $0.description },
                       ["m.toml:1:1: error: the manifest declares no components; add at least one [[component]] section"])
    }
}
