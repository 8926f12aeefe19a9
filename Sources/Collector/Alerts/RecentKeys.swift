/// The last `capacity` distinct keys seen, for delivering each alert once with bounded memory.
struct RecentKeys: Sendable {
    let capacity: Int
    private var members: Set<String> = []
    /// A ring of the members in insertion order; `next` is the slot the next key overwrites.
    private var ring: [String] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { members.count }

    /// Adds `key`; false when it was already there. The oldest key is forgotten once `capacity` are held.
    mutating func insert(_ key: String) -> Bool {
        guard members.insert(key).inserted else { return false }
        if ring.count < capacity {
            ring.append(key)
        } else {
            members.remove(ring[next])
            ring[next] = key
            next = (next + 1) % capacity
        }
        return true
    }
}
