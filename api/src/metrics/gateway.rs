//! `GatewayRequests`: what the OpenFaaS invocation routes answered, as HTTP (codes include
//! refusals that never became an activation: 404 for an unknown function, 429, 503). The routes
//! report each answer through [`Metrics::record_gateway_request`](super::Metrics::record_gateway_request).

use super::families::{CounterFamily, HistogramFamily};
use std::time::Duration;
use store::latency::FUNCTION_BUCKETS_MICROS;

#[derive(Debug)]
pub struct GatewayRequests {
    /// `whirl_gateway_requests_total{function_name,code}`.
    pub requests: CounterFamily,
    /// `whirl_gateway_request_seconds{function_name,code}`: from the request to the answer.
    pub seconds: HistogramFamily,
}

impl Default for GatewayRequests {
    fn default() -> Self {
        Self {
            requests: CounterFamily::default(),
            seconds: HistogramFamily::new(FUNCTION_BUCKETS_MICROS),
        }
    }
}

impl GatewayRequests {
    /// Counts one answer.
    pub fn record(&self, function_name: &str, code: u16, elapsed: Duration) {
        let code = code.to_string();
        self.requests.add(&[function_name, &code], 1);
        self.seconds.observe_micros(
            &[function_name, &code],
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        );
    }
}
