import LedgerProtocol
import NIOCore
import Synchronization

/// The links past WELCOME and the terms each was last told, so a change of `admission_required` reaches every sidecar,
/// after its first WELCOME and in the order the changes were made: one writer task at a time per link, which sends
/// what the link should be told until that is what it was told.
final class WelcomedLinks: Sendable {
    private struct Link: Sendable {
        /// The terms of the last WELCOME written (or being written).
        var told: Welcome
        /// What the link should be told.
        var wanted: Bool
        var outbound: NIOAsyncChannelOutboundWriter<Message>
        var writing = false
    }

    private let links = Mutex<[UInt64: Link]>([:])
    private static let ids = Atomic<UInt64>(0)

    static func nextID() -> UInt64 { ids.wrappingAdd(1, ordering: .relaxed).newValue }

    var count: Int { links.withLock { $0.count } }

    /// Registers a link that was just sent `welcome`; returns the `admission_required` it was told.
    func add(_ id: UInt64, welcome: Welcome, outbound: NIOAsyncChannelOutboundWriter<Message>) -> Bool {
        links.withLock { $0[id] = Link(told: welcome, wanted: welcome.admissionRequired, outbound: outbound) }
        return welcome.admissionRequired
    }

    func remove(_ id: UInt64) {
        _ = links.withLock { $0.removeValue(forKey: id) }
    }

    func restate(_ id: UInt64, admissionRequired: Bool) {
        change([id], to: admissionRequired)
    }

    func restateAll(admissionRequired: Bool) {
        change(nil, to: admissionRequired)
    }

    /// Sets what the links (`ids`, nil: all) should be told and starts a writer for each that is not being written to.
    private func change(_ ids: [UInt64]?, to admissionRequired: Bool) {
        let start = links.withLock { links -> [UInt64] in
            var start: [UInt64] = []
            for id in ids ?? Array(links.keys) {
                guard var link = links[id] else { continue }
                link.wanted = admissionRequired
                if !link.writing && link.told.admissionRequired != admissionRequired {
                    link.writing = true
                    start.append(id)
                }
                links[id] = link
            }
            return start
        }
        for id in start {
            Task { await self.write(id) }
        }
    }

    /// Writes WELCOME to one link until it has been told what it should be; a link that went away ends it.
    private func write(_ id: UInt64) async {
        while true {
            let next = links.withLock { links -> (NIOAsyncChannelOutboundWriter<Message>, Welcome)? in
                guard var link = links[id] else { return nil }
                guard link.told.admissionRequired != link.wanted else {
                    link.writing = false
                    links[id] = link
                    return nil
                }
                link.told.admissionRequired = link.wanted
                links[id] = link
                return (link.outbound, link.told)
            }
            guard let (outbound, welcome) = next else { return }
            do {
                try await outbound.write(.welcome(welcome))
            } catch {
                return  // the link is closing; `remove` forgets it
            }
        }
    }
}
