import KernelABI
import UserRuntime
import XCTest

final class ComponentStartInfoTests: XCTestCase {
    let sample = ComponentStartInfo(
        name: Array("serial".utf8), entry: 0x80_0000_0000, heapBase: ComponentLayout.heapBase, heapSize: 0x4000,
        ticksPerMillisecond: 1000,
        uses: [.init(name: Array("log".utf8), portal: ComponentSelectors.firstService)],
        provides: [.init(name: Array("log".utf8), landing: 1234), .init(name: Array("x".utf8), landing: 1235)],
        ports: [.init(first: 0x3f8, count: 8)], mmio: [.init(physicalBase: 0xfee0_0000, size: 0x1000, virtualAddress: 7)],
        interrupts: [.init(irq: 4, semaphore: ComponentSelectors.firstInterrupt)])

    func testRoundTripsThroughItsWords() throws {
        let words = try sample.words()
        XCTAssertEqual(words.count, sample.wordCount)
        let decoded = try ComponentStartInfo.decode { $0 < words.count ? words[$0] : 0 }
        XCTAssertEqual(decoded, sample)
        XCTAssertEqual(decoded.portal(forService: "log"), ComponentSelectors.firstService)
        XCTAssertNil(decoded.portal(forService: "disk"))
        XCTAssertEqual(decoded.providedService(named: "x")?.id, 1)
        XCTAssertEqual(decoded.providedService(named: "x")?.landing, 1235)
    }

    func testNamesLongerThanTheFieldAreRejected() {
        var info = sample
        info.uses[0].name = Array(repeating: 0x61, count: ComponentStartInfo.maxNameBytes + 1)
        XCTAssertThrowsError(try info.words()) { error in
            XCTAssertEqual(error as? ComponentStartInfo.EncodeError, .nameTooLong(info.uses[0].name))
        }
    }

    func testTooManyEntriesForOnePageAreRejected() {
        var info = sample
        info.ports = Array(repeating: .init(first: 1, count: 1), count: 300)
        XCTAssertThrowsError(try info.words())
    }

    func testCorruptPagesAreRejectedWithoutReadingPastThePage() {
        XCTAssertThrowsError(try ComponentStartInfo.decode { _ in 0 }) { error in
            XCTAssertEqual(error as? ComponentStartInfo.DecodeError, .badMagic(0))
        }
        var words = (try? sample.words()) ?? []
        words[1] = 9
        XCTAssertThrowsError(try ComponentStartInfo.decode { words[$0] }) { error in
            XCTAssertEqual(error as? ComponentStartInfo.DecodeError, .badVersion(9))
        }
        words[1] = ComponentStartInfo.version
        words[8] = UInt64.max // port count
        XCTAssertThrowsError(try ComponentStartInfo.decode { precondition($0 < 512); return $0 < words.count ? words[$0] : 0 })
    }

    /// VM records carry their modules and a command line of any length up to what the page holds.
    func testVMRecordsRoundTripWithModulesAndCommandLines() throws {
        var info = sample
        info.vms = [
            .init(name: Array("linux".utf8), image: Array("vmlinuz".utf8), memory: 128 << 20, vcpus: 1, nested: false,
                  isKernel: true, ramAddress: ComponentLayout.guestRAM, imageAddress: 0x3000_0000_1000, imageSize: 7,
                  initrdName: Array("initramfs".utf8), initrdAddress: 0x3001_0000_0000, initrdSize: 9,
                  diskAddress: 0x3002_0000_0000, diskSize: 1 << 20, commandLine: Array("console=ttyS0 quiet panic=-1".utf8)),
            .init(name: Array("test".utf8), image: Array("guest-test".utf8), memory: 4 << 20, vcpus: 2, nested: true,
                  commandLine: Array(repeating: 0x61, count: 8)),
            // A disk from a block service: the route's name, no module.
            .init(name: Array("served".utf8), image: Array("bzImage".utf8), memory: 4 << 20, vcpus: 1, nested: false,
                  isKernel: true, diskService: Array("storage-of-the-tenant".utf8)),
        ]
        let words = try info.words()
        XCTAssertEqual(words.count, info.wordCount)
        let decoded = try ComponentStartInfo.decode { $0 < words.count ? words[$0] : 0 }
        XCTAssertEqual(decoded, info)
        XCTAssertEqual(decoded.vms.map { $0.diskService }, [[], [], Array("storage-of-the-tenant".utf8)])
        XCTAssertEqual(decoded.portal(forService: Array("log".utf8)), ComponentSelectors.firstService)
    }

    /// A command-line length beyond the page is refused, not read past the page.
    func testACommandLineLengthBeyondThePageIsRejected() throws {
        var info = sample
        info.vms = [.init(name: Array("a".utf8), image: Array("b".utf8), memory: 4096, vcpus: 1, nested: false,
                          commandLine: Array("x".utf8))]
        var words = try info.words()
        words[words.count - 2] = 4096  // the length word
        XCTAssertThrowsError(try ComponentStartInfo.decode { precondition($0 < 512); return $0 < words.count ? words[$0] : 0 })
    }

    func testTheEntryArgumentFallsBackToTheFixedAddress() {
        XCTAssertEqual(ComponentStartInfo.address(entryArgument: 0), ComponentLayout.startInfo)
        XCTAssertEqual(ComponentStartInfo.address(entryArgument: 0x1234000), 0x1234000)
    }
}
