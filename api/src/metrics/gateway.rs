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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_count_by_function_and_status_with_their_time() {
        let gateway = GatewayRequests::default();
        gateway.record("convertbw.guest", 200, Duration::from_millis(30));
        gateway.record("convertbw.guest", 200, Duration::from_millis(3));
        gateway.record("nope.guest", 404, Duration::from_micros(200));
        let key = |name: &str, code: &str| vec![name.to_owned(), code.to_owned()];
        assert_eq!(
            gateway.requests.snapshot(),
            vec![
                (key("convertbw.guest", "200"), 2),
                (key("nope.guest", "404"), 1)
            ]
        );
        let seconds = gateway.seconds.snapshot();
        assert_eq!(seconds[0].0, key("convertbw.guest", "200"));
        assert_eq!(seconds[0].1.count, 2);
        assert_eq!(seconds[0].1.sum_micros, 33_000);
        // 3 ms is under the first bound (5 ms), 30 ms under the third (25 ms is not enough).
        assert_eq!(&seconds[0].1.cumulative[..4], &[1, 1, 1, 2]);
    }
}
