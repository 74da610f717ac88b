//! A seeded synthetic workload shaped like the Azure Functions trace characterised by Shahrad et al.
//! ("Serverless in the Wild", USENIX ATC'20), at the trace's own resolution: invocations per app per
//! minute.
//!
//! What it reproduces from the paper's characterisation:
//! - popularity: an app's mean daily invocations are log-normal, fitted so that 45 % of apps are
//!   invoked at most once an hour and 81 % at most once a minute, spanning 8 orders of magnitude
//!   (0.1 to 10^7 a day);
//! - trigger mix per app: HTTP alone or with others in about two thirds of the apps, timers in about
//!   a third, queues and events in the rest, combinations included;
//! - arrival shapes: timers fire on cron-like periods (1 minute to 1 day) with no jitter; HTTP comes
//!   in sessions of a few requests with a diurnal cycle and quieter weekends; queues in bursts of
//!   messages; events as a plain Poisson process;
//! - memory: log-normal with a median of 150 MB and 90 % of apps under 400 MB.
//!
//! Each app draws from its own generator seeded from the workload seed and its index, so an app's
//! invocations do not depend on how many apps are generated.

use crate::random::Draw;
use actors::core::SplitMix64;

const MINUTES_PER_DAY: u32 = 1_440;

/// The size of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadConfig {
    pub seed: u64,
    pub apps: u32,
    pub days: u32,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            seed: 1,
            apps: 5_000,
            days: 7,
        }
    }
}

/// How invocations of one trigger arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// Sessions of requests, diurnal, quieter on weekends.
    Http {
        /// Mean requests a day.
        daily: f64,
        /// Mean requests per session.
        session: f64,
        /// Diurnal amplitude (0 to 1).
        amplitude: f64,
        /// Minute of the day of the peak.
        peak_minute: f64,
        /// Weekend rate relative to weekdays.
        weekend: f64,
    },
    /// A cron-like timer.
    Timer { period_minutes: u32, phase: u32 },
    /// Bursts of messages.
    Queue {
        /// Mean messages a day.
        daily: f64,
        /// Mean messages per burst.
        burst: f64,
    },
    /// A plain Poisson process.
    Event { daily: f64 },
}

/// What triggers an app has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TriggerMix {
    Http,
    Timer,
    Queue,
    Event,
    HttpTimer,
    HttpQueue,
    TimerQueue,
    HttpTimerQueue,
}

impl TriggerMix {
    /// All mixes and their share of apps in per mille.
    const SHARES: [(TriggerMix, u64); 8] = [
        (TriggerMix::Http, 440),
        (TriggerMix::Timer, 120),
        (TriggerMix::Queue, 100),
        (TriggerMix::Event, 60),
        (TriggerMix::HttpTimer, 100),
        (TriggerMix::HttpQueue, 80),
        (TriggerMix::TimerQueue, 40),
        (TriggerMix::HttpTimerQueue, 60),
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            TriggerMix::Http => "http",
            TriggerMix::Timer => "timer",
            TriggerMix::Queue => "queue",
            TriggerMix::Event => "event",
            TriggerMix::HttpTimer => "http+timer",
            TriggerMix::HttpQueue => "http+queue",
            TriggerMix::TimerQueue => "timer+queue",
            TriggerMix::HttpTimerQueue => "http+timer+queue",
        }
    }

    fn kinds(self) -> &'static [&'static str] {
        match self {
            TriggerMix::Http => &["http"],
            TriggerMix::Timer => &["timer"],
            TriggerMix::Queue => &["queue"],
            TriggerMix::Event => &["event"],
            TriggerMix::HttpTimer => &["http", "timer"],
            TriggerMix::HttpQueue => &["http", "queue"],
            TriggerMix::TimerQueue => &["timer", "queue"],
            TriggerMix::HttpTimerQueue => &["http", "timer", "queue"],
        }
    }
}

/// One app of the workload: its memory, triggers and the minutes it was invoked in.
#[derive(Clone, Debug, PartialEq)]
pub struct AppWorkload {
    pub app: u32,
    pub mix: TriggerMix,
    pub memory_mb: u64,
    /// Mean daily invocations the app was drawn with.
    pub daily_rate: f64,
    pub triggers: Vec<Trigger>,
    /// (minute, invocations in it) for every minute with at least one, in order.
    pub minutes: Vec<(u32, u32)>,
}

impl AppWorkload {
    /// All invocations.
    pub fn invocations(&self) -> u64 {
        self.minutes.iter().map(|&(_, n)| u64::from(n)).sum()
    }
}

/// Cron-like timer periods in minutes.
const TIMER_PERIODS: [u32; 15] = [
    1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440,
];

/// The period closest (in ratio) to `minutes`.
fn timer_period(minutes: f64) -> u32 {
    let mut best = TIMER_PERIODS[0];
    let mut best_distance = f64::MAX;
    for &p in &TIMER_PERIODS {
        let distance = (f64::from(p).ln() - minutes.max(1.0).ln()).abs();
        if distance < best_distance {
            best = p;
            best_distance = distance;
        }
    }
    best
}

/// Generates one app.
pub fn generate_app(config: &WorkloadConfig, app: u32) -> AppWorkload {
    let mut rng = SplitMix64::new(
        config
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(u64::from(app).wrapping_mul(0xD1B5_4A32_D192_ED03)),
    );
    // Popularity: log10(daily) ~ N(1.6, 1.77), within [-1, 7].
    let log_daily = (1.6 + 1.77 * rng.normal()).clamp(-1.0, 7.0);
    let daily_rate = 10f64.powf(log_daily);
    let weights: Vec<u64> = TriggerMix::SHARES.iter().map(|&(_, w)| w).collect();
    let mix = TriggerMix::SHARES[rng.weighted(&weights)].0;
    let memory_mb = (150.0 * (0.765 * rng.normal()).exp()).clamp(64.0, 1536.0) as u64;
    let kinds = mix.kinds();
    let shares: Vec<f64> = kinds.iter().map(|_| 0.2 + rng.unit()).collect();
    let total: f64 = shares.iter().sum();
    let triggers: Vec<Trigger> = kinds
        .iter()
        .zip(&shares)
        .map(|(&kind, &share)| {
            let daily = daily_rate * share / total;
            match kind {
                "http" => Trigger::Http {
                    daily,
                    session: 1.0 + 3.0 * rng.unit(),
                    amplitude: 0.3 + 0.6 * rng.unit(),
                    peak_minute: rng.unit() * f64::from(MINUTES_PER_DAY),
                    weekend: 0.4 + 0.6 * rng.unit(),
                },
                "timer" => {
                    let period_minutes = timer_period(f64::from(MINUTES_PER_DAY) / daily);
                    Trigger::Timer {
                        period_minutes,
                        phase: rng.below(u64::from(period_minutes)) as u32,
                    }
                }
                "queue" => Trigger::Queue {
                    daily,
                    burst: 1.0 + 30.0 * rng.unit(),
                },
                _ => Trigger::Event { daily },
            }
        })
        .collect();
    let horizon = config.days * MINUTES_PER_DAY;
    let mut counts: Vec<(u32, u32)> = Vec::new();
    for trigger in &triggers {
        arrivals(trigger, horizon, &mut rng, &mut counts);
    }
    counts.sort_unstable();
    let mut minutes: Vec<(u32, u32)> = Vec::with_capacity(counts.len());
    for (minute, n) in counts {
        match minutes.last_mut() {
            Some((last, total)) if *last == minute => *total += n,
            _ => minutes.push((minute, n)),
        }
    }
    AppWorkload {
        app,
        mix,
        memory_mb,
        daily_rate,
        triggers,
        minutes,
    }
}

/// The relative rate of an HTTP trigger at `minute` (mean 1 over a week).
fn diurnal(minute: u32, amplitude: f64, peak_minute: f64, weekend: f64) -> f64 {
    let day = minute / MINUTES_PER_DAY;
    let in_day = f64::from(minute % MINUTES_PER_DAY);
    let phase = std::f64::consts::TAU * (in_day - peak_minute) / f64::from(MINUTES_PER_DAY);
    let week_factor = if day % 7 >= 5 { weekend } else { 1.0 };
    let mean_week = (5.0 + 2.0 * weekend) / 7.0;
    (1.0 + amplitude * phase.cos()) * week_factor / mean_week
}

/// Rates above this many per minute are drawn as per-minute Poisson counts.
const DENSE_PER_MINUTE: f64 = 5.0;

fn arrivals(trigger: &Trigger, horizon: u32, rng: &mut SplitMix64, out: &mut Vec<(u32, u32)>) {
    match *trigger {
        Trigger::Timer {
            period_minutes,
            phase,
        } => {
            let mut m = phase;
            while m < horizon {
                out.push((m, 1));
                m += period_minutes.max(1);
            }
        }
        Trigger::Event { daily } => poisson_minutes(daily, horizon, rng, out, |_| 1.0),
        Trigger::Http {
            daily,
            session,
            amplitude,
            peak_minute,
            weekend,
        } => {
            let shape = |m: u32| diurnal(m, amplitude, peak_minute, weekend);
            let per_minute = daily / f64::from(MINUTES_PER_DAY);
            if per_minute > DENSE_PER_MINUTE {
                poisson_minutes(daily, horizon, rng, out, shape);
                return;
            }
            // Sessions arrive as a thinned Poisson process; each holds a geometric number of
            // requests spaced by exponential think times (mean 40 s).
            let sessions_per_minute = per_minute / session;
            let peak = sessions_per_minute * (1.0 + amplitude) / ((5.0 + 2.0 * weekend) / 7.0);
            if peak <= 0.0 {
                return;
            }
            let mut t = 0.0;
            loop {
                t += rng.exponential(1.0 / peak);
                if t >= f64::from(horizon) {
                    break;
                }
                let minute = t as u32;
                if rng.unit() * peak > sessions_per_minute * shape(minute) {
                    continue;
                }
                let requests = rng.geometric(session);
                let mut at = t;
                for _ in 0..requests {
                    if at >= f64::from(horizon) {
                        break;
                    }
                    out.push((at as u32, 1));
                    at += rng.exponential(40.0 / 60.0);
                }
            }
        }
        Trigger::Queue { daily, burst } => {
            let per_minute = daily / f64::from(MINUTES_PER_DAY);
            if per_minute > DENSE_PER_MINUTE {
                poisson_minutes(daily, horizon, rng, out, |_| 1.0);
                return;
            }
            // Bursts arrive as a Poisson process; a burst's messages are consumed at about
            // ten a minute.
            let bursts_per_minute = per_minute / burst;
            let mut t = 0.0;
            loop {
                t += rng.exponential(1.0 / bursts_per_minute);
                if t >= f64::from(horizon) {
                    break;
                }
                let messages = rng.geometric(burst);
                let mut at = t;
                for _ in 0..messages {
                    if at >= f64::from(horizon) {
                        break;
                    }
                    out.push((at as u32, 1));
                    at += rng.exponential(0.1);
                }
            }
        }
    }
}

/// Per-minute Poisson counts with mean `daily / 1440 * shape(minute)`.
fn poisson_minutes(
    daily: f64,
    horizon: u32,
    rng: &mut SplitMix64,
    out: &mut Vec<(u32, u32)>,
    shape: impl Fn(u32) -> f64,
) {
    let per_minute = daily / f64::from(MINUTES_PER_DAY);
    if per_minute <= 0.0 {
        return;
    }
    if per_minute > DENSE_PER_MINUTE {
        for m in 0..horizon {
            let n = rng.poisson(per_minute * shape(m));
            if n > 0 {
                out.push((m, n.min(u64::from(u32::MAX)) as u32));
            }
        }
        return;
    }
    let mut t = 0.0;
    loop {
        t += rng.exponential(1.0 / per_minute);
        if t >= f64::from(horizon) {
            break;
        }
        out.push((t as u32, 1));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn apps_are_reproducible_and_independent_of_the_workload_size() {
        let small = WorkloadConfig {
            seed: 3,
            apps: 10,
            days: 2,
        };
        let large = WorkloadConfig {
            apps: 1_000,
            ..small.clone()
        };
        assert_eq!(generate_app(&small, 7), generate_app(&large, 7));
        assert_ne!(generate_app(&small, 7), generate_app(&small, 8));
    }

    #[test]
    fn popularity_matches_the_papers_quantiles() {
        let config = WorkloadConfig {
            seed: 5,
            apps: 4_000,
            days: 1,
        };
        let rates: Vec<f64> = (0..config.apps)
            .map(|a| generate_app(&config, a).daily_rate)
            .collect();
        let at_most_hourly = rates.iter().filter(|&&r| r <= 24.0).count() as f64 / 4000.0;
        let at_most_per_minute = rates.iter().filter(|&&r| r <= 1440.0).count() as f64 / 4000.0;
        assert!((0.41..0.49).contains(&at_most_hourly), "{at_most_hourly}");
        assert!(
            (0.77..0.85).contains(&at_most_per_minute),
            "{at_most_per_minute}"
        );
        let min = rates.iter().cloned().fold(f64::MAX, f64::min);
        let max = rates.iter().cloned().fold(0.0, f64::max);
        assert!(max / min > 1e6, "spans {min}..{max}");
    }

    #[test]
    fn timers_fire_on_their_period_and_minutes_are_merged() {
        let mut out = Vec::new();
        let mut rng = SplitMix64::new(1);
        arrivals(
            &Trigger::Timer {
                period_minutes: 15,
                phase: 4,
            },
            60,
            &mut rng,
            &mut out,
        );
        assert_eq!(out, vec![(4, 1), (19, 1), (34, 1), (49, 1)]);
        assert_eq!(timer_period(1440.0 / 3.0), 480);
        assert_eq!(timer_period(0.2), 1);
        let app = generate_app(&WorkloadConfig::default(), 11);
        assert!(app.minutes.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn diurnal_shape_averages_to_one_over_a_week() {
        let total: f64 = (0..7 * MINUTES_PER_DAY)
            .map(|m| diurnal(m, 0.8, 600.0, 0.5))
            .sum();
        let mean = total / f64::from(7 * MINUTES_PER_DAY);
        assert!((mean - 1.0).abs() < 1e-6, "{mean}");
    }
}
