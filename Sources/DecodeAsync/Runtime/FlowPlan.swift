import Console
import EmailWorker
import FlowKit
import GraphSync
import NotificationService

/// One flow a process runs: its name, its port, and its module's build function bound to its
/// configuration.
struct FlowPlan: Sendable {
    var name: ServiceName
    var http: HTTPBinding
    var build: @Sendable (FlowDependencies) async throws -> FlowParts
}

extension DecodeAsyncConfiguration {
    /// The flows this configuration runs (those whose settings were read), in start order.
    var flows: [FlowPlan] {
        var flows: [FlowPlan] = []
        if let configuration = self.notifications {
            flows.append(
                FlowPlan(name: .notifications, http: configuration.http) {
                    try NotificationFlow.build(configuration: configuration, dependencies: $0)
                })
        }
        if let configuration = self.email {
            flows.append(
                FlowPlan(name: .email, http: configuration.http) {
                    try await EmailFlow.build(configuration: configuration, dependencies: $0)
                })
        }
        if let configuration = self.sync {
            flows.append(
                FlowPlan(name: .sync, http: configuration.http) {
                    try SyncFlow.build(configuration: configuration, dependencies: $0)
                })
        }
        if let configuration = self.console {
            flows.append(
                FlowPlan(name: .console, http: configuration.http) {
                    try ConsoleFlow.build(configuration: configuration, dependencies: $0)
                })
        }
        return flows
    }
}
