import ServiceLifecycle

/// Runs `service` only once `ready` reports a port, so nothing that must be torn down (a link to the collector)
/// starts before every listener is bound; ends at once if shutdown or a failed listener comes first.
struct StartAfter: Service {
    let ready: ListeningPort
    let service: any Service

    func run() async throws {
        let started = await cancelWhenGracefulShutdown { (try? await ready.value()) != nil }
        guard started, !Task.isCancelled else { return }
        try await service.run()
    }
}
