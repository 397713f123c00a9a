import CoreMetrics
import Metrics

/// The email worker's metrics of COMPAT.md section 6 (`queue.message.*` come from the consumer).
/// Recorded through `factory` (the bootstrapped system by default; tests pass their own).
struct EmailMetrics: Sendable {
    let factory: any MetricsFactory

    func templateUsed(_ type: EmailType) {
        Counter(
            label: "email.template.used", dimensions: [("email_type", type.rawValue), ("template", type.rawValue)],
            factory: self.factory
        )
        .increment()
    }

    func recordSuccess(type: String, since start: ContinuousClock.Instant, sent: Bool) {
        Timer(
            label: "email.processing.duration", dimensions: [("email_type", type), ("status", "success")],
            factory: self.factory
        )
        .record(duration: .now - start)
        if sent {
            Counter(
                label: "email.sent", dimensions: [("email_type", type), ("status", "success")], factory: self.factory
            )
            .increment()
        }
    }

    func recordFailure(type: String, since start: ContinuousClock.Instant) {
        Timer(
            label: "email.processing.duration", dimensions: [("email_type", type), ("status", "failed")],
            factory: self.factory
        )
        .record(duration: .now - start)
        Counter(label: "email.failed", dimensions: [("email_type", type), ("status", "failed")], factory: self.factory)
            .increment()
    }
}
