import Metrics

/// The email worker's metrics of COMPAT.md section 6 (`queue.message.*` come from the consumer).
enum EmailMetrics {
    static func templateUsed(_ type: EmailType) {
        Counter(label: "email.template.used", dimensions: [("email_type", type.rawValue), ("template", type.rawValue)])
            .increment()
    }

    static func recordSuccess(type: String, since start: ContinuousClock.Instant, sent: Bool) {
        Timer(label: "email.processing.duration", dimensions: [("email_type", type), ("status", "success")])
            .recordNanoseconds(self.nanoseconds(since: start))
        if sent {
            Counter(label: "email.sent", dimensions: [("email_type", type), ("status", "success")]).increment()
        }
    }

    static func recordFailure(type: String, since start: ContinuousClock.Instant) {
        Timer(label: "email.processing.duration", dimensions: [("email_type", type), ("status", "failed")])
            .recordNanoseconds(self.nanoseconds(since: start))
        Counter(label: "email.failed", dimensions: [("email_type", type), ("status", "failed")]).increment()
    }

    private static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}
