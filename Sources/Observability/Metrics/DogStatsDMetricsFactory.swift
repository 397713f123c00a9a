import CoreMetrics
import NIOConcurrencyHelpers

/// A swift-metrics backend that writes every recorded value to DogStatsD, as hot-shots does.
///
/// Counters are `|c` (the increment), timers `|ms`, aggregating recorders `|h`, meters and
/// non-aggregating recorders `|g` (the absolute value). Every line carries the global tags
/// (`service`, `env`, `version` when set) followed by the metric's own dimensions.
public struct DogStatsDMetricsFactory: MetricsFactory {
    private let emitter: Emitter

    /// Creates a factory writing through `client`; `prefix` is prepended to every name.
    public init(client: DogStatsDClient, prefix: String = "", globalTags: [(String, String)]) {
        self.emitter = Emitter(prefix: prefix, globalTags: globalTags) { client.send($0) }
    }

    /// Creates a factory writing each line to `sink` (used by tests).
    public init(prefix: String = "", globalTags: [(String, String)], sink: @escaping @Sendable (String) -> Void) {
        self.emitter = Emitter(prefix: prefix, globalTags: globalTags, sink: sink)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(emitter: self.emitter, label: label, dimensions: dimensions, kind: .counter)
    }

    public func makeFloatingPointCounter(
        label: String,
        dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        Handler(emitter: self.emitter, label: label, dimensions: dimensions, kind: .counter)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        Handler(emitter: self.emitter, label: label, dimensions: dimensions, kind: .gauge)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(emitter: self.emitter, label: label, dimensions: dimensions, kind: aggregate ? .histogram : .gauge)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(emitter: self.emitter, label: label, dimensions: dimensions, kind: .timer)
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}
}

extension DogStatsDMetricsFactory {
    fileprivate struct Emitter: Sendable {
        let prefix: String
        let globalTags: [(String, String)]
        let sink: @Sendable (String) -> Void

        func emit(name: String, value: String, type: DogStatsDLine.MetricType, tags: [(String, String)]) {
            self.sink(DogStatsDLine.format(prefix: self.prefix, name: name, value: value, type: type, tags: tags))
        }
    }

    /// One handler type serves every metric kind; a gauge keeps its current value so increments
    /// and decrements can be sent as absolute values (DogStatsD has no relative gauges).
    fileprivate final class Handler: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler,
        TimerHandler, Sendable
    {
        let emitter: Emitter
        let label: String
        let tags: [(String, String)]
        let kind: DogStatsDLine.MetricType
        private let gaugeValue = NIOLockedValueBox<Double>(0)

        init(emitter: Emitter, label: String, dimensions: [(String, String)], kind: DogStatsDLine.MetricType) {
            self.emitter = emitter
            self.label = label
            self.tags = emitter.globalTags + dimensions
            self.kind = kind
        }

        private func emit(_ value: String) {
            self.emitter.emit(name: self.label, value: value, type: self.kind, tags: self.tags)
        }

        // Counter
        func increment(by amount: Int64) { self.emit(DogStatsDLine.value(amount)) }
        func reset() {}

        // Floating point counter and meter
        func increment(by amount: Double) {
            switch self.kind {
            case .gauge: self.set(self.gaugeValue.withLockedValue { value in value + amount })
            default: self.emit(DogStatsDLine.value(amount))
            }
        }

        func decrement(by amount: Double) {
            self.set(self.gaugeValue.withLockedValue { value in value - amount })
        }

        // Meter
        func set(_ value: Int64) { self.set(Double(value)) }
        func set(_ value: Double) {
            self.gaugeValue.withLockedValue { $0 = value }
            self.emit(DogStatsDLine.value(value))
        }

        // Recorder
        func record(_ value: Int64) { self.record(Double(value)) }
        func record(_ value: Double) {
            if self.kind == .gauge {
                self.set(value)
            } else {
                self.emit(DogStatsDLine.value(value))
            }
        }

        // Timer
        func recordNanoseconds(_ duration: Int64) {
            self.emit(DogStatsDLine.milliseconds(fromNanoseconds: duration))
        }
    }
}
