import LedgerProtocol
import NIOCore

/// Budgets and rate limits: a captured call waits for the collector's verdict before it goes upstream.
extension ProxyConnectionHandler {
    /// Sends ADMIT for `call` (its body as forwarded) and carries on, on this connection's event loop, once the
    /// verdict (or its absence) is known.
    func admit(_ call: CapturedCall, body forwarded: ByteBuffer, on context: ChannelHandlerContext) {
        phase = .admitting
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let generation = self.generation
        let admission = core.admission
        let summary = CallSummary(body: forwarded)
        let bodyBytes = UInt32(clamping: forwarded.readableBytes)
        Task {
            let outcome = await admission.admit { requestID in
                Admit(
                    requestID: requestID, actionID: call.actionID, sessionID: call.metadata.sessionID,
                    agentName: call.metadata.agentName, userID: call.metadata.userID, appID: call.metadata.appID,
                    model: summary.model, bodyBytes: bodyBytes, maxTokens: summary.maxTokens)
            }
            bound.eventLoop.execute { bound.value.admitted(outcome, generation: generation) }
        }
    }

    private func admitted(_ outcome: AdmissionClient.Outcome, generation: UInt64) {
        guard generation == self.generation, phase == .admitting, context != nil else { return }
        switch outcome {
        case .notRequired, .admitted:
            break
        case .refused(let verdict):
            core.shipper.counters.add(.refusedByCollector)
            let refusal = ProxyError.refused(
                type: verdict.refusalType ?? "budget_exceeded", message: verdict.message ?? "refused by the collector",
                retryAfterSeconds: verdict.retryAfterSeconds)
            tap?.responded(status: refusal.status.code, headers: ["content-type": "application/json"])
            tap?.received(refusal.body)
            return answer(refusal, outcome: .refused)
        case .unavailable(let reason):
            core.shipper.counters.add(.admissionUnavailable)
            if core.configuration.refuseWhenCollectorDown {
                core.shipper.counters.add(.refusedCollectorDown)
                tap = nil
                return answer(ProxyError.collectorUnavailable)
            }
            core.logger.debug("forwarding without a verdict", metadata: ["reason": "\(reason)"])
        }
        phase = .forwarding
        connectUpstream()
    }
}
