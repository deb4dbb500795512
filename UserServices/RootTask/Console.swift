import UserRuntime

/// Console lines of the root task, through the kernel console (the root PD holds the console right).
struct Console<P: UserPlatform> {
    let platform: P

    func line(_ text: String) {
        var copy = text + "\n"
        copy.withUTF8 { SystemCalls(platform).print(bytes: $0) }
    }
}

/// "0x" followed by lowercase hex digits, without Foundation.
func hex(_ value: UInt64) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    var text = ""
    var v = value
    repeat {
        text.insert(digits[Int(v & 0xf)], at: text.startIndex)
        v >>= 4
    } while v != 0
    return "0x" + text
}
