import NIOCore
import Testing

@testable import Collector

/// Who judges ADMITs (docs/operations.md, "One enforcer"): the enforcer only while its lease allows, whatever the
/// election's task has had time to do.
@Suite struct LeadershipTests {
    @Test func aCollectorAloneEnforcesForGood() {
        #expect(Leadership.sole().isEnforcer)
        #expect(Leadership.sole().enforcerAddress == nil)
    }

    @Test func aFollowerForwardsToTheAddressItFollows() {
        let leadership = Leadership(.follower(enforcer: "10.0.0.1:4600", epoch: 3))
        #expect(!leadership.isEnforcer)
        #expect(leadership.enforcerAddress == "10.0.0.1:4600")
    }

    @Test func anEnforcerPastItsFenceJudgesNothingBeforeAnyoneSaysSo() async throws {
        let leadership = Leadership(.follower(enforcer: nil, epoch: 0))
        let previous = leadership.become(.enforcer(epoch: 1), until: .now() + .milliseconds(50))
        #expect(previous == .follower(enforcer: nil, epoch: 0))
        #expect(leadership.isEnforcer)
        try await Task.sleep(for: .milliseconds(80))
        #expect(!leadership.isEnforcer, "the role says enforcer, the fence has passed")
        leadership.extend(until: .now() + .seconds(5))
        #expect(leadership.isEnforcer)
        leadership.become(.follower(enforcer: "b:1", epoch: 2))
        #expect(!leadership.isEnforcer)
        #expect(leadership.enforcerAddress == "b:1")
    }
}
