import Foundation
import LedgerProtocol

/// The calls of one simulated pod of `demo` (`DemoFleet`): sessions of its agents, in turn, each handing over to the
/// next, with the request and response bodies a provider would see and send (OpenAI chat or Anthropic messages), so
/// the collector parses, prices and stores them like any captured call.
struct DemoSessions {
    let pod: DemoFleet.Pod
    private var sessions = 0
    /// The live session under way, and the agent whose turn is next.
    private var live: (id: String, user: String, turn: Int, parent: String?)?

    init(pod: DemoFleet.Pod) {
        self.pod = pod
    }

    /// A day of sessions ending at `until` (µs since the epoch), busier in working hours (UTC).
    mutating func day(until: Int64, random: inout DemoRandom) -> [CapturedCall] {
        var calls: [CapturedCall] = []
        let hour: Int64 = 3_600_000_000
        var start = until - 24 * hour
        var refusals = pod.app == "support-desk" ? 1 : 0
        while start < until {
            let hourOfDay = Double((start / hour) % 24)
            let busy = 0.25 + 0.75 * max(0, sin((hourOfDay - 6) / 14 * .pi))
            let gap = random.exponential(mean: Double(hour) / (pod.sessionsPerHour * busy))
            start += Int64(gap)
            guard start < until else { break }
            var session = session(at: start, random: &random)
            if refusals > 0, start > until - 8 * hour {
                refusals -= 1
                session.append(refused(after: session.last!, random: &random))
            }
            calls += session.filter { $0.arrivedAtMicros < until }
        }
        return calls
    }

    /// The next call (or two) of the live session, started now; a new session begins when one ends.
    mutating func liveCalls(at now: Int64, random: inout DemoRandom) -> [CapturedCall] {
        if live == nil {
            sessions += 1
            live = ("\(pod.app)-\(Self.token(&random))", random.pick(pod.users), 0, nil)
        }
        guard var current = live else { return [] }
        let agent = pod.agents[current.turn % pod.agents.count]
        let previous = current.turn == 0 ? nil : pod.agents[(current.turn - 1) % pod.agents.count]
        let call = makeCall(
            session: current.id, user: current.user, agent: agent, handoffFrom: previous == agent ? nil : previous,
            parent: current.parent, at: now, random: &random)
        current.turn += 1
        current.parent = call.actionID
        live = current.turn >= pod.agents.count * random.int(in: 1...2) ? nil : current
        return [call]
    }

    /// One session from `start`: each agent in turn, some more than once, calls following each other.
    private mutating func session(at start: Int64, random: inout DemoRandom) -> [CapturedCall] {
        sessions += 1
        let id = "\(pod.app)-\(Self.token(&random))"
        let user = random.pick(pod.users)
        var calls: [CapturedCall] = []
        var at = start
        var parent: String?
        var previous: String?
        let rounds = random.int(in: 1...2)
        for round in 0..<rounds {
            for agent in pod.agents {
                let turns = agent == "researcher" || agent == "answerer" ? random.int(in: 1...3) : 1
                for _ in 0..<turns {
                    let call = makeCall(
                        session: id, user: user, agent: agent, handoffFrom: previous != agent ? previous : nil,
                        parent: parent, at: at, random: &random)
                    calls.append(call)
                    at += call.completedMicros + Int64(random.double(in: 150_000...2_500_000))
                    parent = call.actionID
                    previous = agent
                }
            }
            if round == 0 && random.int(in: 0...2) != 0 { break }
        }
        return calls
    }

    private func makeCall(
        session: String, user: String, agent: String, handoffFrom: String?, parent: String?, at: Int64,
        random: inout DemoRandom
    ) -> CapturedCall {
        let model = Self.model(for: agent, among: pod.models, random: &random)
        let anthropic = model.hasPrefix("claude")
        let tokensIn = random.int(in: 350...4_200)
        let tokensOut = random.int(in: 30...650)
        // Latency grows with the output: first token after 250-900 ms, then 50-140 tokens a second.
        let firstByte = Int64(random.double(in: 250_000...900_000))
        let total = firstByte + Int64(Double(tokensOut) / random.double(in: 50...140) * 1_000_000)
        let failed = random.int(in: 0...70) == 0
        let prompt = random.pick(Self.questions[pod.app] ?? Self.questions["support-desk"]!)
        let output = random.pick(Self.answers[agent] ?? Self.answers["answerer"]!)
        let system = Self.systemPrompts[agent] ?? "You are a helpful assistant."
        let requestBody: [String: Any]
        let responseBody: [String: Any]
        if anthropic {
            requestBody = [
                "model": model, "max_tokens": 1024, "system": system,
                "messages": [["role": "user", "content": prompt]],
            ]
            responseBody =
                failed
                ? ["type": "error", "error": ["type": "overloaded_error", "message": "Overloaded"]]
                : [
                    "id": "msg_\(Self.token(&random))", "type": "message", "role": "assistant", "model": model,
                    "content": [["type": "text", "text": output]], "stop_reason": "end_turn",
                    "usage": ["input_tokens": tokensIn, "output_tokens": tokensOut],
                ]
        } else {
            requestBody = [
                "model": model,
                "messages": [["role": "system", "content": system], ["role": "user", "content": prompt]],
            ]
            responseBody =
                failed
                ? ["error": ["message": "The server had an error while processing your request.", "type": "server_error"]]
                : [
                    "id": "chatcmpl-\(Self.token(&random))", "object": "chat.completion", "model": model,
                    "choices": [
                        ["index": 0, "message": ["role": "assistant", "content": output], "finish_reason": "stop"]
                    ],
                    "usage": [
                        "prompt_tokens": tokensIn, "completion_tokens": tokensOut, "total_tokens": tokensIn + tokensOut,
                    ],
                ]
        }
        let json = [HeaderField("content-type", "application/json")]
        return CapturedCall(
            actionID: UUID().uuidString.lowercased(), arrivedAtMicros: at, method: "POST",
            path: anthropic ? "/v1/messages" : "/v1/chat/completions", source: pod.name,
            metadata: CallMetadata(
                sessionID: session, userID: user, agentName: agent, appID: pod.app, parentActionID: parent,
                environment: pod.environment, handoffFrom: handoffFrom, handoffTo: handoffFrom == nil ? nil : agent),
            requestHeaders: json, requestBody: Self.bytes(requestBody),
            statusCode: failed ? (anthropic ? 529 : 500) : 200, responseHeaders: json,
            responseBody: Self.bytes(responseBody), firstByteMicros: failed ? total / 4 : firstByte,
            completedMicros: failed ? total / 4 : total)
    }

    /// A call refused by a budget, as a sidecar records it: 429 with the collector's reason, never sent upstream.
    private func refused(after last: CapturedCall, random: inout DemoRandom) -> CapturedCall {
        let message =
            "User daily budget of $5.0000 exceeded (current spend and reservations: $4.9981, this call up to $0.0123) User: \(last.metadata.userID ?? "")."
        var call = last
        call.actionID = UUID().uuidString.lowercased()
        call.arrivedAtMicros = last.arrivedAtMicros + last.completedMicros + 400_000
        call.metadata.parentActionID = last.actionID
        call.metadata.handoffFrom = nil
        call.metadata.handoffTo = nil
        call.statusCode = 429
        call.responseBody = Self.bytes(["error": ["message": message, "type": "budget_exceeded"]])
        call.firstByteMicros = 600
        call.completedMicros = 600
        call.outcome = .refused
        call.outcomeDetail = message
        return call
    }

    private static func model(for agent: String, among models: [String], random: inout DemoRandom) -> String {
        switch agent {
        case "writer", "planner": models.first { $0.hasPrefix("claude-sonnet") } ?? models[0]
        case "triage", "summarizer": models.first { $0.hasSuffix("mini") || $0.contains("haiku") } ?? models[0]
        default: random.pick(models)
        }
    }

    private static func bytes(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    private static func token(_ random: inout DemoRandom) -> String {
        String(random.next() & 0xFF_FFFF_FFFF, radix: 36)
    }

    static let systemPrompts: [String: String] = [
        "triage": "Classify the customer's message: billing, bug, how-to or account. Answer with one word.",
        "answerer": "You answer customer questions from the help center articles given. Be brief and cite the article.",
        "planner": "Break the research question into at most four sub-questions and say which sources to read.",
        "researcher": "Read the sources you are given and extract the facts that answer the sub-question, with citations.",
        "writer": "Write a clear, sourced summary for a busy reader. Use short paragraphs.",
        "summarizer": "Summarize the document in five bullet points, keeping every number and date.",
        "grader": "Grade the answer against the reference from 1 to 5 and explain the grade in one sentence.",
    ]

    static let questions: [String: [String]] = [
        "support-desk": [
            "I was charged twice for my March invoice, can you refund one?",
            "How do I add a teammate to my workspace?", "The export to CSV button does nothing in Firefox.",
            "Can I change the email address on my account?", "Our SSO login loops back to the sign-in page.",
        ],
        "research-assistant": [
            "How did the 2024 EU AI Act change obligations for general-purpose model providers?",
            "Compare the unit economics of three battery chemistries for grid storage.",
            "What do recent studies say about four-day work weeks and productivity?",
            "Summarize the state of solid-state battery manufacturing in 2025.",
        ],
        "doc-summarizer": [
            "Summarize the attached master services agreement (42 pages).",
            "Summarize Q3 board minutes for the finance team.",
            "Summarize this vendor security questionnaire and flag gaps.",
        ],
        "evals": [
            "Grade: Q: capital of Australia? Reference: Canberra. Answer: Sydney.",
            "Grade: Q: 17 * 23? Reference: 391. Answer: 391.",
        ],
    ]

    static let answers: [String: [String]] = [
        "triage": ["billing", "how-to", "bug", "account"],
        "answerer": [
            "I've refunded the duplicate charge of $49.00; it will appear on your statement in 5-10 business days (article: Billing > Refunds).",
            "Open Settings > Members and choose Invite; teammates get an email link valid for 7 days (article: Workspaces > Members).",
            "This is a known Firefox issue fixed in 4.12; until then, use Export > Download as CSV from the menu (article: Known issues).",
        ],
        "planner": [
            "1. What changed for GPAI providers (Art. 53)? 2. Timelines. 3. Penalties. 4. Open questions. Sources: OJ L 2024/1689, Commission Q&A.",
            "1. Cost per kWh of LFP, NMC, sodium-ion. 2. Cycle life. 3. Supply risks. Sources: BNEF 2025 survey, IEA report.",
        ],
        "researcher": [
            "GPAI providers must keep technical documentation, publish a training-data summary and respect copyright opt-outs from Aug 2025 [OJ L 2024/1689, Art. 53].",
            "LFP cells averaged $78/kWh in 2025 against $95 for NMC; sodium-ion pilot lines quote $65-70 but at lower energy density [BNEF 2025].",
            "A 2023 UK trial of 61 companies found revenue broadly unchanged and 92% kept the four-day week afterwards [Autonomy, 2023].",
        ],
        "writer": [
            "In short: from August 2025, makers of general-purpose models must document their models and training data, with heavier duties above 10^25 FLOPs. Fines reach 3% of turnover.",
            "LFP now leads grid storage on cost and cycle life; sodium-ion is the one to watch where supply risk matters more than density.",
        ],
        "summarizer": [
            "- Term: 3 years from 1 Jan 2026\n- Fees: $120k/yr, +3% yearly\n- Liability capped at 12 months' fees\n- 60-day termination for convenience\n- Data deleted within 30 days of end",
            "- Revenue $14.2M (+18% YoY)\n- Gross margin 71%\n- Hiring paused in G&A\n- New credit line $5M\n- Next board meeting 12 Dec",
        ],
        "grader": ["2 - the answer names the largest city, not the capital.", "5 - correct and complete."],
    ]
}

/// A small seeded random source (SplitMix64): the demo's history is the same on every run.
struct DemoRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func double(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(next() >> 11) / Double(1 << 53) * (range.upperBound - range.lowerBound)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func exponential(mean: Double) -> Double {
        -mean * log(max(1e-12, 1 - double(in: 0...1)))
    }

    mutating func pick<T>(_ values: [T]) -> T {
        values[int(in: 0...(values.count - 1))]
    }
}
