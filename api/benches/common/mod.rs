//! The closed-loop load generator the api benches share: `threads` threads each repeat one
//! request for a measured window after a warm-up; a [`Phase`] holds the sorted latencies.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Phase {
    pub name: String,
    pub requests: usize,
    pub seconds: f64,
    pub samples: Vec<Duration>,
}

impl Phase {
    /// One phase of several measured in turns (their samples and windows together).
    pub fn merge(name: String, parts: Vec<Phase>) -> Phase {
        let mut samples: Vec<Duration> = parts.iter().flat_map(|p| p.samples.clone()).collect();
        samples.sort();
        Phase {
            name,
            requests: samples.len(),
            seconds: parts.iter().map(|p| p.seconds).sum(),
            samples,
        }
    }

    pub fn at(&self, q: f64) -> f64 {
        let index = ((self.samples.len() as f64 - 1.0) * q).round() as usize;
        self.samples[index].as_secs_f64() * 1e3
    }

    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn print(&self) {
        println!(
            "{:<34} {:>8} {:>9.0} {:>8.3} {:>8.3} {:>8.3}",
            self.name,
            self.requests,
            self.rate(),
            self.at(0.5),
            self.at(0.9),
            self.at(0.99)
        );
    }
}

/// Runs `work` on `threads` threads for `seconds` after a one-second warm-up.
pub fn run<F>(name: &str, threads: usize, seconds: f64, make: impl Fn() -> F) -> Phase
where
    F: FnMut() + Send + 'static,
{
    run_after(name, threads, Duration::from_secs(1), seconds, make)
}

/// Runs `work` on `threads` threads for `seconds` after `warm_up`.
pub fn run_after<F>(
    name: &str,
    threads: usize,
    warm_up: Duration,
    seconds: f64,
    make: impl Fn() -> F,
) -> Phase
where
    F: FnMut() + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let mut work = make();
            let stop = stop.clone();
            let measuring = measuring.clone();
            std::thread::spawn(move || {
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    work();
                    if measuring.load(Ordering::Relaxed) {
                        samples.push(started.elapsed());
                    }
                }
                samples
            })
        })
        .collect();
    std::thread::sleep(warm_up);
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut samples: Vec<Duration> = handles
        .into_iter()
        .flat_map(|handle| handle.join().unwrap())
        .collect();
    samples.sort();
    Phase {
        name: format!("{name}, c={threads}"),
        requests: samples.len(),
        seconds: elapsed,
        samples,
    }
}
