import KernelABI

/// What happens after `enterUser` or `idle` returns.
extension Kernel {
    func handle(_ exit: Exit, from ec: ExecutionContext?) {
        statistics.exits += 1
        switch exit {
        case .hypercall:
            if let ec { handleHypercall(ec) }
        case .exception(let vector, let errorCode, let address):
            statistics.exceptions += 1
            if let ec { raiseEvent(.exception, vector: vector, errorCode: errorCode, address: address, for: ec) }
        case .interrupt(let irq):
            deliverInterrupt(irq)
        case .guest:
            if let ec, let vcpu = ec.vcpu { raiseGuestExit(ec, vcpu, vcpu.state.exitReason) }
        case .timer:
            statistics.timerExits += 1
            wakeExpiredTimeouts()
        }
    }
}
