//! The baseline phase: the same trivial Python code in `concurrency` warm ActionLoop launchers
//! (the launcher the process driver runs), each driven directly by one task over its socket:
//! one JSON line out, one line back, no HTTP, no controller, no record.

use super::cpu::CpuMeter;
use super::load::Stop;
use super::stats::PhaseStats;
use crate::cli::client_error::ClientError;
use bridge::baseline::WarmPythonProcess;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs the baseline phase with `python` and `code` (entry point `main`), reading `meter` when
/// the measured window opens and when it closes.
pub fn run(
    python: &Path,
    code: &str,
    concurrency: usize,
    warmup: Duration,
    stop: Stop,
    meter: &CpuMeter,
) -> Result<PhaseStats, ClientError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| local(format!("cannot start a tokio runtime: {e}")))?;
    let scratch = std::env::temp_dir().join(format!("whirl-bench-baseline-{}", std::process::id()));
    let result = runtime.block_on(drive(
        python,
        code,
        concurrency.max(1),
        warmup,
        stop,
        &scratch,
        meter,
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn local(message: String) -> ClientError {
    ClientError::Local {
        message,
        hint: Some(
            "the baseline needs python3 on PATH (or --python PATH); skip it with --no-baseline"
                .into(),
        ),
    }
}

async fn drive(
    python: &Path,
    code: &str,
    concurrency: usize,
    warmup: Duration,
    stop: Stop,
    scratch: &Path,
    meter: &CpuMeter,
) -> Result<PhaseStats, ClientError> {
    let mut processes = Vec::with_capacity(concurrency);
    for index in 0..concurrency {
        let dir: PathBuf = scratch.join(index.to_string());
        let process = WarmPythonProcess::start(python, &dir, code)
            .await
            .map_err(|e| {
                local(format!(
                    "cannot start the Python launcher with {}: {e}",
                    python.display()
                ))
            })?;
        processes.push(process);
    }
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + warmup;
    let tasks: Vec<_> = processes
        .into_iter()
        .map(|mut process| {
            let issued = issued.clone();
            tokio::spawn(async move {
                let mut stats = PhaseStats::default();
                loop {
                    let now = Instant::now();
                    let measuring = now >= measure_from;
                    if measuring {
                        match stop {
                            Stop::After(d) if now >= measure_from + d => break,
                            Stop::Count(count)
                                if issued.fetch_add(1, Ordering::Relaxed) >= count =>
                            {
                                break
                            }
                            _ => {}
                        }
                    }
                    let sent = Instant::now();
                    let outcome = process.invoke("{}").await;
                    let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                    if !measuring {
                        continue;
                    }
                    match outcome {
                        Ok(_) => stats.micros.push(micros),
                        Err(e) => {
                            stats.errors += 1;
                            if stats.first_error.is_none() {
                                stats.first_error = Some(e.to_string());
                            }
                            break;
                        }
                    }
                }
                process.stop().await;
                stats
            })
        })
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    let opened = meter.read();
    let mut closed = None;
    if let Stop::After(duration) = stop {
        tokio::time::sleep_until((measure_from + duration).into()).await;
        closed = Some(meter.read());
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for task in tasks {
        parts.push(
            task.await
                .map_err(|e| local(format!("a baseline task failed: {e}")))?,
        );
    }
    let window = match stop {
        Stop::After(duration) => duration,
        Stop::Count(_) => start.elapsed().saturating_sub(warmup),
    }
    .max(Duration::from_millis(1));
    let cpu = opened.until(&closed.unwrap_or_else(|| meter.read()));
    Ok(PhaseStats::merge(parts, window, cpu))
}
