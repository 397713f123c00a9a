import CoreMetrics
import Prometheus

/// Process-wide metrics set-up: DogStatsD and Prometheus fed by the same swift-metrics calls.
public enum MetricsBootstrap {
    /// The factory that sends every metric to both backends.
    ///
    /// DogStatsD lines carry the global tags and `prefix`; Prometheus series carry the global tags as
    /// labels (so no family is ever both labelled and unlabelled) and names with `.` turned into `_`.
    public static func makeFactory(
        dogStatsD: DogStatsDClient,
        prefix: String,
        globalTags: [(String, String)],
        prometheus: PrometheusCollectorRegistry
    ) -> any MetricsFactory {
        var prometheusFactory = PrometheusMetricsFactory(registry: prometheus)
        prometheusFactory.nameAndLabelSanitizer = { name, labels in
            (name, globalTags + labels)
        }
        return MultiplexMetricsHandler(factories: [
            DogStatsDMetricsFactory(client: dogStatsD, prefix: prefix, globalTags: globalTags),
            prometheusFactory,
        ])
    }

    /// Installs `factory` as the process's metrics backend; call once, before any metric is created.
    public static func bootstrap(_ factory: any MetricsFactory) {
        MetricsSystem.bootstrap(factory)
    }

    /// The global tags of the original services: `service`, `env`, and `version` when set.
    public static func globalTags(service: String, env: String, version: String?) -> [(String, String)] {
        var tags = [("service", service), ("env", env)]
        if let version, !version.isEmpty {
            tags.append(("version", version))
        }
        return tags
    }
}
