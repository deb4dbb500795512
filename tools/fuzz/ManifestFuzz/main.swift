// The coverage-guided fuzz target of the manifest checker and the root task's blob check: every input is
// checked as manifest text (`ManifestTextProperty`) and as a compiled blob (`ManifestBlobProperty`).
//
// Built two ways from the same code. `tools/fuzz-manifest` builds it with `-sanitize=fuzzer -DMANIFEST_FUZZ`
// (into .build-fuzz): libFuzzer then runs the loop, with its usual flags (`-max_total_time=60 CORPUS...`).
// A normal `swift build` compiles it without libFuzzer, as a replayer: `manifest-fuzz FILE|DIR...` runs each
// input once, deterministically, so the corpus and any crash file libFuzzer saved can be rerun anywhere.

#if MANIFEST_FUZZ
import Glibc

/// libFuzzer's entry for programs that keep their own `main` (compiler-rt's FuzzerInterface.h).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, count in
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    ManifestTextProperty.check(bytes)
    ManifestBlobProperty.check(bytes)
    return 0
})
#else
CorpusReplay.main(Array(CommandLine.arguments.dropFirst()))
#endif
