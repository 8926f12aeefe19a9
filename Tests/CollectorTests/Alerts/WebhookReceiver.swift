import Hummingbird
import LedgerTestSupport
import NIOCore
import Synchronization

/// A webhook on 127.0.0.1 that records every POST it gets and answers as scripted: the first requests follow
/// `script`, the rest `fallback`. A hanging answer waits until `release()` (or 30 s), then answers 503.
struct WebhookReceiver: Sendable {
    enum Answer: Sendable {
        case status(Int)
        case hang
    }

    /// What the receiver has seen, shared with its route.
    final class Recorder: Sendable {
        private struct State {
            var script: [Answer]
            var fallback: Answer
            var bodies: [String] = []
            var inFlight = 0
            var maxInFlight = 0
            var released = false
        }

        private let state: Mutex<State>

        init(script: [Answer], fallback: Answer) {
            state = Mutex(State(script: script, fallback: fallback))
        }

        var bodies: [String] { state.withLock { $0.bodies } }
        var inFlight: Int { state.withLock { $0.inFlight } }
        var maxInFlight: Int { state.withLock { $0.maxInFlight } }
        var released: Bool { state.withLock { $0.released } }

        func release() { state.withLock { $0.released = true } }

        func answer(_ request: Request) async throws -> Response {
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let answer = state.withLock { state in
                state.bodies.append(String(buffer: body))
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                return state.script.isEmpty ? state.fallback : state.script.removeFirst()
            }
            defer { state.withLock { $0.inFlight -= 1 } }
            switch answer {
            case .status(let code):
                return Response(status: HTTPResponse.Status(code: code))
            case .hang:
                for _ in 0..<3000 where !released {
                    try await Task.sleep(for: .milliseconds(10))
                }
                return Response(status: .serviceUnavailable)
            }
        }
    }

    let recorder: Recorder
    let port: Int
    private let services: RunningServices

    /// Starts a receiver and waits until it listens.
    static func started(script: [Answer] = [], then fallback: Answer = .status(200)) async throws -> WebhookReceiver {
        let recorder = Recorder(script: script, fallback: fallback)
        let router = Router()
        router.post("/hook") { request, _ in try await recorder.answer(request) }
        let portBox = PortBox()
        let services = RunningServices([
            Application(
                router: router,
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                onServerRunning: { portBox.fill($0) }, logger: Integration.logger)
        ])
        do {
            return WebhookReceiver(recorder: recorder, port: try await portBox.port("webhook receiver"), services: services)
        } catch {
            await services.stop()
            throw error
        }
    }

    /// The URL alerts go to, with a credential in the query, as Slack-style webhooks carry one.
    var url: String { "http://127.0.0.1:\(port)/hook?token=s3cret" }

    func stop() async {
        recorder.release()
        await services.stop()
    }
}
