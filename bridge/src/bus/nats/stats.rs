//! `NatsBusStats`: what a [`NatsBus`](super::NatsBus) has carried, in atomics the API reads for
//! `/metrics`: messages published and received per kind, failures, and the round trip to the
//! NATS server measured by the bus's probe (the bridge knows nothing about HTTP or Prometheus).

use std::sync::atomic::{AtomicU64, Ordering};
use store::latency::{LatencyHistogram, FAST_BUCKETS_MICROS};

/// The kinds of message the bus carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BusMessageKind {
    Activation,
    Completion,
    Ping,
    StartNotice,
}

impl BusMessageKind {
    /// Every kind, in a fixed order.
    pub const ALL: [BusMessageKind; 4] = [
        BusMessageKind::Activation,
        BusMessageKind::Completion,
        BusMessageKind::Ping,
        BusMessageKind::StartNotice,
    ];

    /// The kind's name in logs, errors and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            BusMessageKind::Activation => "activation",
            BusMessageKind::Completion => "completion",
            BusMessageKind::Ping => "ping",
            BusMessageKind::StartNotice => "start notice",
        }
    }

    fn index(self) -> usize {
        match self {
            BusMessageKind::Activation => 0,
            BusMessageKind::Completion => 1,
            BusMessageKind::Ping => 2,
            BusMessageKind::StartNotice => 3,
        }
    }
}

/// Counters and the round-trip histogram of one NATS bus.
#[derive(Debug)]
pub struct NatsBusStats {
    published: [AtomicU64; 4],
    received: [AtomicU64; 4],
    publish_failures: AtomicU64,
    decode_failures: AtomicU64,
    probe_failures: AtomicU64,
    /// Client → server → client: a probe message published on a subject this connection
    /// subscribes to, timed until it comes back.
    pub round_trip: LatencyHistogram,
}

impl Default for NatsBusStats {
    fn default() -> Self {
        Self {
            published: Default::default(),
            received: Default::default(),
            publish_failures: AtomicU64::new(0),
            decode_failures: AtomicU64::new(0),
            probe_failures: AtomicU64::new(0),
            round_trip: LatencyHistogram::new(FAST_BUCKETS_MICROS),
        }
    }
}

impl NatsBusStats {
    /// Messages of `kind` handed to the connection.
    pub fn published(&self, kind: BusMessageKind) -> u64 {
        self.published[kind.index()].load(Ordering::Relaxed)
    }

    /// Messages of `kind` received and decoded.
    pub fn received(&self, kind: BusMessageKind) -> u64 {
        self.received[kind.index()].load(Ordering::Relaxed)
    }

    /// Publishes the connection refused.
    pub fn publish_failures(&self) -> u64 {
        self.publish_failures.load(Ordering::Relaxed)
    }

    /// Messages dropped because they did not decode.
    pub fn decode_failures(&self) -> u64 {
        self.decode_failures.load(Ordering::Relaxed)
    }

    /// Probes that did not come back in time (or could not be sent).
    pub fn probe_failures(&self) -> u64 {
        self.probe_failures.load(Ordering::Relaxed)
    }

    pub(crate) fn count_published(&self, kind: BusMessageKind) {
        self.published[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_received(&self, kind: BusMessageKind) {
        self.received[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_publish_failure(&self) {
        self.publish_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_decode_failure(&self) {
        self.decode_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_probe_failure(&self) {
        self.probe_failures.fetch_add(1, Ordering::Relaxed);
    }
}
