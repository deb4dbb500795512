/// The common configuration structure of the modern transport (virtio 1.2, §4.1.4.3): feature negotiation,
/// device status with the reset and FEATURES_OK handshake, and per-queue setup through queue_select.
/// Accesses of any width and alignment work byte for byte: each field an access touches is read, the written
/// bytes merged in, and the field's rule applied (so Linux's two 32-bit halves of a 64-bit address work).
extension VirtioPCIFunction {
    private typealias Field = VirtioPCILayout.Common

    /// The fields in order, with their widths.
    private static let fields: [(offset: Int, width: Int)] = [
        (Field.deviceFeatureSelect, 4), (Field.deviceFeature, 4), (Field.driverFeatureSelect, 4),
        (Field.driverFeature, 4), (Field.msixConfig, 2), (Field.numQueues, 2), (Field.deviceStatus, 1),
        (Field.configGeneration, 1), (Field.queueSelect, 2), (Field.queueSize, 2), (Field.queueMSIXVector, 2),
        (Field.queueEnable, 2), (Field.queueNotifyOff, 2), (Field.queueDescriptor, 8), (Field.queueDriver, 8),
        (Field.queueDevice, 8), (Field.queueNotifyData, 2), (Field.queueReset, 2),
    ]

    private var selectedQueue: VirtioQueue? {
        Int(queueSelect) < queues.count ? queues[Int(queueSelect)] : nil
    }

    /// The structure as the driver would read it now. A queue_select naming no queue shows zeros (size 0 tells
    /// the driver the queue does not exist).
    func commonConfigurationImage() -> [UInt8] {
        var image = [UInt8](repeating: 0, count: Field.length)
        func put(_ offset: Int, _ width: Int, _ value: UInt64) {
            for i in 0..<width { image[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        put(Field.deviceFeatureSelect, 4, UInt64(deviceFeatureSelect))
        put(Field.deviceFeature, 4, Self.featureWord(offeredFeatures, select: deviceFeatureSelect))
        put(Field.driverFeatureSelect, 4, UInt64(driverFeatureSelect))
        put(Field.driverFeature, 4, Self.featureWord(driverFeatures, select: driverFeatureSelect))
        put(Field.msixConfig, 2, UInt64(VirtioPCILayout.noVector))
        put(Field.numQueues, 2, UInt64(queues.count))
        put(Field.deviceStatus, 1, UInt64(deviceStatus))
        put(Field.configGeneration, 1, 0)  // the device configuration never changes under the driver
        put(Field.queueSelect, 2, UInt64(queueSelect))
        if let queue = selectedQueue {
            put(Field.queueSize, 2, UInt64(queue.size))
            put(Field.queueMSIXVector, 2, UInt64(VirtioPCILayout.noVector))
            put(Field.queueEnable, 2, queue.isEnabled ? 1 : 0)
            put(Field.queueNotifyOff, 2, UInt64(queue.index))
            put(Field.queueDescriptor, 8, queue.descriptorTableAddress)
            put(Field.queueDriver, 8, queue.availableRingAddress)
            put(Field.queueDevice, 8, queue.usedRingAddress)
        }
        return image
    }

    private static func featureWord(_ features: UInt64, select: UInt32) -> UInt64 {
        select < 2 ? (features >> (32 * UInt64(select))) & 0xffff_ffff : 0
    }

    func writeCommonConfiguration(offset: Int, size: Int, value: UInt64) {
        let image = commonConfigurationImage()
        let end = offset + size
        guard offset < Field.length else {
            note("write beyond the common configuration at \(offset): dropped")
            return
        }
        for field in Self.fields where field.offset < end && field.offset + field.width > offset {
            var merged = VirtioPCIFunction.extract(image, offset: field.offset, size: field.width)
            for i in 0..<field.width {
                let byte = field.offset + i
                guard byte >= offset, byte < end else { continue }
                let shift = 8 * UInt64(i)
                merged = (merged & ~(0xff << shift)) | ((value >> (8 * UInt64(byte - offset))) & 0xff) << shift
            }
            apply(field: field.offset, merged)
        }
    }

    private func apply(field: Int, _ value: UInt64) {
        switch field {
        case Field.deviceFeatureSelect:
            deviceFeatureSelect = UInt32(truncatingIfNeeded: value)
        case Field.driverFeatureSelect:
            driverFeatureSelect = UInt32(truncatingIfNeeded: value)
        case Field.driverFeature:
            writeDriverFeatures(UInt32(truncatingIfNeeded: value))
        case Field.msixConfig, Field.queueMSIXVector:
            break  // no MSI-X: every vector reads back as NO_VECTOR, which tells the driver the mapping failed
        case Field.deviceStatus:
            writeStatus(UInt8(truncatingIfNeeded: value))
        case Field.queueSelect:
            queueSelect = UInt16(truncatingIfNeeded: value)
        case Field.queueSize, Field.queueEnable, Field.queueDescriptor, Field.queueDriver, Field.queueDevice:
            writeQueueField(field, value)
        case Field.queueReset:
            note("queue_reset written, but VIRTIO_F_RING_RESET is not offered: dropped")
        default:
            note("write to read-only common configuration field at \(field): dropped")
        }
    }

    private func writeDriverFeatures(_ word: UInt32) {
        guard deviceStatus & VirtioDeviceStatus.featuresOK == 0 else {
            note("driver features written after FEATURES_OK: dropped")
            return
        }
        switch driverFeatureSelect {
        case 0: driverFeatures = (driverFeatures & 0xffff_ffff_0000_0000) | UInt64(word)
        case 1: driverFeatures = (driverFeatures & 0xffff_ffff) | UInt64(word) << 32
        default: if word != 0 { driverFeaturesBeyond64 = true }
        }
    }

    // MARK: - Status

    /// §2.1 and §3.1.1: writing 0 resets; the driver cannot clear bits otherwise, nor set DEVICE_NEEDS_RESET.
    /// FEATURES_OK sticks only if the driver took nothing that was not offered and took VERSION_1; DRIVER_OK only
    /// after FEATURES_OK. The driver learns a refusal by reading the status back.
    private func writeStatus(_ value: UInt8) {
        guard value != 0 else {
            resetDevice()
            return
        }
        let old = deviceStatus
        var status = (value & ~VirtioDeviceStatus.deviceNeedsReset) | old
        if old & ~value & ~VirtioDeviceStatus.deviceNeedsReset != 0 {
            note("driver cleared device status bits (\(old) -> \(value)) without a reset: kept")
        }
        let newlySet = status & ~old
        if newlySet & VirtioDeviceStatus.featuresOK != 0, let problem = featureProblem() {
            note("FEATURES_OK refused: " + problem)
            status &= ~VirtioDeviceStatus.featuresOK
        }
        if newlySet & VirtioDeviceStatus.driverOK != 0, status & VirtioDeviceStatus.featuresOK == 0 {
            note("DRIVER_OK before FEATURES_OK: refused")
            status &= ~VirtioDeviceStatus.driverOK
        }
        deviceStatus = status
        if status & ~old & VirtioDeviceStatus.driverOK != 0 {
            // Buffers made available before DRIVER_OK were not served; serve them now.
            for queue in queues where queue.isEnabled && failure == nil && configurationSpace.isBusMaster {
                process(queue)
            }
        }
    }

    private func featureProblem() -> String? {
        let unoffered = driverFeatures & ~offeredFeatures
        if unoffered != 0 { return "driver took features not offered: " + VirtioError.hex(unoffered) }
        if driverFeaturesBeyond64 { return "driver took features above bit 63" }
        if driverFeatures & VirtioFeature.version1 == 0 { return "driver did not take VIRTIO_F_VERSION_1" }
        return nil
    }

    private func resetDevice() {
        deviceStatus = 0
        deviceFeatureSelect = 0
        driverFeatureSelect = 0
        driverFeatures = 0
        driverFeaturesBeyond64 = false
        queueSelect = 0
        failure = nil
        for queue in queues { queue.reset() }
        device.reset()
        interruptStatus = 0
        updateInterruptLine()
    }

    // MARK: - Queues

    private func writeQueueField(_ field: Int, _ value: UInt64) {
        guard let queue = selectedQueue else {
            note("queue field at \(field) written with queue_select \(queueSelect), which names no queue: dropped")
            return
        }
        guard !queue.isEnabled else {
            note("queue \(queue.index) reconfigured while enabled: dropped")
            return
        }
        switch field {
        case Field.queueSize:
            queue.size = UInt16(truncatingIfNeeded: value)  // checked when the queue is enabled
        case Field.queueDescriptor:
            queue.descriptorTableAddress = value
        case Field.queueDriver:
            queue.availableRingAddress = value
        case Field.queueDevice:
            queue.usedRingAddress = value
        default:
            enableQueue(queue, value)
        }
    }

    private func enableQueue(_ queue: VirtioQueue, _ value: UInt64) {
        guard value == 1 else {
            note("queue_enable of queue \(queue.index) written with \(value) (only 1 enables; reset disables): dropped")
            return
        }
        guard deviceStatus & VirtioDeviceStatus.featuresOK != 0 else {
            note("queue \(queue.index) enabled before FEATURES_OK: dropped")
            return
        }
        guard failure == nil else { return }
        do {
            try queue.enable(memory: memory,
                             allowsIndirect: driverFeatures & VirtioFeature.ringIndirectDescriptors != 0)
        } catch {
            fail(error)
        }
    }
}
