//! The keep-alive policies the study compares, as per-app deciders: after each busy minute a
//! policy picks the pre-warm and keep-alive windows of the idle period that follows. The histogram
//! policies are the very code the container pool runs (`actors::core::pool::HistogramPolicy`).

use actors::core::pool::{
    HistogramPolicy, IdleTimes, KeepAlivePolicy, KeepAliveWindows, OutOfRange, WindowRule,
};

/// One policy of the study.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StudyPolicy {
    /// Keep loaded for a fixed time after each use (OpenWhisk and Lambda: 10 minutes).
    Fixed { keep_alive_ms: u64 },
    /// A histogram policy, named.
    Histogram {
        name: String,
        policy: HistogramPolicy,
    },
}

impl StudyPolicy {
    /// Fixed keep-alive of `minutes`.
    pub fn fixed_minutes(minutes: u64) -> Self {
        StudyPolicy::Fixed {
            keep_alive_ms: minutes * 60_000,
        }
    }

    /// The paper's hybrid histogram policy with a range of `hours` (the paper's default is 4),
    /// without its ARIMA forecast; its standard keep-alive is the range.
    pub fn hybrid_hours(hours: u32) -> Self {
        let mut policy = HistogramPolicy::paper();
        policy.bins = hours * 60;
        policy.standard_keep_alive_ms = u64::from(hours) * 3_600_000;
        StudyPolicy::Histogram {
            name: format!("hybrid histogram, paper ({hours} h range)"),
            policy,
        }
    }

    /// The paper's hybrid histogram policy (4 h range, without ARIMA).
    pub fn hybrid() -> Self {
        Self::hybrid_hours(4)
    }

    /// Whirl's policy as the pool ships it ([`HistogramPolicy::whirl`]).
    pub fn whirl() -> Self {
        StudyPolicy::Histogram {
            name: "whirl cold target (price 2.2, default)".to_string(),
            policy: HistogramPolicy::whirl(),
        }
    }

    /// Whirl's policy at another memory price (in thousandths), to draw its trade-off curve.
    pub fn whirl_at_price(price_milli: u32) -> Self {
        let mut policy = HistogramPolicy::whirl();
        policy.rule = WindowRule::CostAware { price_milli };
        StudyPolicy::Histogram {
            name: format!(
                "whirl cold target (price {:.1})",
                f64::from(price_milli) / 1000.0
            ),
            policy,
        }
    }

    /// Whirl's previous policy: the linear cost-aware rule alone on a 4-hour histogram with 10 %
    /// margins, forecasting idle times beyond the range once `min_history` of them are known (2
    /// before; 1 shows what the first-day forecast alone brings).
    pub fn whirl_linear(price_milli: u32, min_history: u32) -> Self {
        let policy = HistogramPolicy {
            bins: 240,
            margin_percent: 10,
            rule: WindowRule::CostAware { price_milli },
            cold_target: None,
            out_of_range: OutOfRange::Forecast {
                history: 4,
                min_history,
                max_spread_percent: 5,
                margin_percent: 2,
            },
            ..HistogramPolicy::whirl()
        };
        let price = f64::from(price_milli) / 1000.0;
        let name = if min_history > 1 {
            format!("whirl linear cost-aware, before (price {price:.1})")
        } else {
            format!("whirl linear cost-aware + first-day forecast (price {price:.1})")
        };
        StudyPolicy::Histogram { name, policy }
    }

    /// The policy's name in tables.
    pub fn name(&self) -> String {
        match self {
            StudyPolicy::Fixed { keep_alive_ms } => {
                format!("fixed {} min", keep_alive_ms / 60_000)
            }
            StudyPolicy::Histogram { name, .. } => name.clone(),
        }
    }

    /// The same policy as the container pool's configuration.
    pub fn pool_policy(&self) -> KeepAlivePolicy {
        match self {
            StudyPolicy::Fixed { keep_alive_ms } => KeepAlivePolicy::IdleFor {
                idle_ms: *keep_alive_ms,
            },
            StudyPolicy::Histogram { policy, .. } => KeepAlivePolicy::Histogram(policy.clone()),
        }
    }

    /// A fresh decider for one app of `memory_mb`.
    pub fn for_app(&self, memory_mb: u64) -> AppDecider<'_> {
        AppDecider {
            policy: self,
            memory_mb,
            idle: IdleTimes::default(),
        }
    }
}

/// The state of one policy for one app.
#[derive(Debug)]
pub struct AppDecider<'a> {
    policy: &'a StudyPolicy,
    memory_mb: u64,
    idle: IdleTimes,
}

impl AppDecider<'_> {
    /// The app was idle for `idle_ms` before an invocation.
    pub fn record(&mut self, idle_ms: u64) {
        if let StudyPolicy::Histogram { policy, .. } = self.policy {
            self.idle.record(idle_ms, policy);
        }
    }

    /// A busy period of `busy_ms` with `invocations` ended.
    pub fn record_busy(&mut self, busy_ms: u64, invocations: u64) {
        if matches!(self.policy, StudyPolicy::Histogram { .. }) {
            self.idle.record_busy(busy_ms, invocations);
        }
    }

    /// The windows of the idle period starting now.
    pub fn windows(&self) -> KeepAliveWindows {
        match self.policy {
            StudyPolicy::Fixed { keep_alive_ms } => KeepAliveWindows {
                prewarm_ms: 0,
                keep_alive_ms: *keep_alive_ms,
            },
            StudyPolicy::Histogram { policy, .. } => policy.windows(&self.idle, self.memory_mb),
        }
    }
}
