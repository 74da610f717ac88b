//! `ApiConfig`: the limits the API enforces (OpenWhisk's shipped defaults unless configured).

use actors::core::throttle::ThrottleConfig;
use store::ActionLimits;

/// The most entries a list answers by default (OpenWhisk: 200).
pub const DEFAULT_MAX_LIST_LIMIT: usize = 200;

/// The allowed range of each action limit, and the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionLimitRanges {
    pub timeout_ms: (u64, u64),
    pub memory_mb: (u32, u32),
    pub logs_mb: (u32, u32),
    pub concurrency: (u32, u32),
    pub defaults: ActionLimits,
}

impl Default for ActionLimitRanges {
    /// 100 ms .. 5 min, 128 .. 512 MB, 0 .. 10 MB of logs, 1 .. 500 concurrent activations.
    fn default() -> Self {
        Self {
            timeout_ms: (100, 300_000),
            memory_mb: (128, 512),
            logs_mb: (0, 10),
            concurrency: (1, 500),
            defaults: ActionLimits::default(),
        }
    }
}

/// What the API enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The namespace defaults the controller throttles with (reported by `GET .../limits`).
    pub throttles: ThrottleConfig,
    pub action_limits: ActionLimitRanges,
    /// Largest invocation or trigger-fire body (bytes).
    pub max_payload_bytes: usize,
    /// Largest `parameters` or `annotations` array of an entity (bytes of its JSON).
    pub max_parameters_bytes: usize,
    /// Largest action code (bytes).
    pub max_code_bytes: usize,
    /// Entities or activations listed when `limit` is not given.
    pub default_list_limit: usize,
    /// Most entities or activations one list returns (`limit=0` means this).
    pub max_list_limit: usize,
    /// Longest wait of a blocking invocation before it answers 202 (ms).
    pub max_blocking_wait_ms: u64,
    /// Most atomic actions a sequence may run.
    pub max_sequence_actions: usize,
    /// The token peers outside the loopback interface present to read `/metrics` (none: only
    /// loopback peers may).
    pub metrics_token: Option<crate::metrics::MetricsToken>,
    /// The namespace of OpenFaaS `/function/{name}` calls without a `.namespace` suffix.
    pub openfaas_namespace: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            throttles: ThrottleConfig::default(),
            action_limits: ActionLimitRanges::default(),
            max_payload_bytes: 1024 * 1024,
            max_parameters_bytes: 1024 * 1024,
            max_code_bytes: 48 * 1024 * 1024,
            default_list_limit: 30,
            max_list_limit: DEFAULT_MAX_LIST_LIMIT,
            max_blocking_wait_ms: 60_000,
            max_sequence_actions: 50,
            metrics_token: None,
            openfaas_namespace: "guest".to_owned(),
        }
    }
}

impl ApiConfig {
    /// The largest request body the server reads at all (code plus room for the rest).
    pub fn max_body_bytes(&self) -> usize {
        self.max_code_bytes
            .saturating_add(self.max_parameters_bytes.saturating_mul(2))
            .saturating_add(64 * 1024)
    }
}
