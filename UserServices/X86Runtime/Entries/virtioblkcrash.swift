// modules: KernelABI UserRuntime ManifestFormat PCIBus BlockService VirtioBlockDriver BlockCheckComponent
// heap: 262144
// Test binary: the virtio-blk driver, whose first run dies mid-I/O (a page fault in its portal handler right after
// the third of blockcheck's eight queued writes reached the device, before the reply), for the image test of
// restart without loss (Tests/ImageTests/Manifests/block-restart.toml). A restarted run finds the device running
// (the dead run left it so) and does not fault.
import BlockCheckComponent
import BlockService
import UserRuntime
import VirtioBlockDriver
import X86Runtime

@_cdecl("user_main")
public func userMain(_ startInfo: UInt64) {
    virtioBlockDriverMain(X86UserPlatform(utcbAddress: ComponentLayout.utcb), startInfo: startInfo)
}

/// One platform object for every call: the handler's frame is abandoned at each reply.
nonisolated(unsafe) var handlerPlatform: X86UserPlatform? = nil
nonisolated(unsafe) var manyWrites = 0

@_cdecl("user_handler_1")
public func userHandler1(_ startInfo: UInt64) {
    if handlerPlatform == nil { handlerPlatform = X86UserPlatform(utcbAddress: ComponentLayout.utcb) }
    guard let platform = handlerPlatform else { return }
    virtioBlockPortal(platform, startInfo: startInfo) { p, request in
        guard !virtioBlockFoundDeviceRunning(p), request.count >= 3, request[0] == BlockOperation.submit.rawValue,
              request[1] == BlockRequestKind.write.rawValue, request[2] >= BlockCheckPattern.manyFirstSector else { return }
        manyWrites += 1
        if manyWrites == 3 { _ = p.load64(8) }
    }
}
