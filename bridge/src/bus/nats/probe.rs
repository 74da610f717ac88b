//! The round-trip probe of a [`NatsBus`](super::NatsBus): every few seconds it publishes a
//! small message on an inbox subject its own connection subscribes to and times how long the
//! server takes to deliver it back. The probe stops once the bus (its stats) is dropped.

use super::stats::NatsBusStats;
use futures::StreamExt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Time between probes.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// A probe that does not come back within this is counted as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts probing `client` (the first probe goes at once) on the current tokio runtime.
pub(crate) fn start_round_trip_probe(client: async_nats::Client, stats: &Arc<NatsBusStats>) {
    let stats = Arc::downgrade(stats);
    tokio::spawn(async move {
        let subject = client.new_inbox();
        let mut echoes = match client.subscribe(subject.clone()).await {
            Ok(subscription) => subscription,
            Err(error) => {
                tracing::warn!(%subject, %error, "no NATS round-trip probe: cannot subscribe");
                return;
            }
        };
        let mut nonce = 0u64;
        while let Some(stats) = Weak::upgrade(&stats) {
            nonce += 1;
            probe_once(&client, &subject, &mut echoes, nonce, &stats).await;
            drop(stats);
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    });
}

async fn probe_once(
    client: &async_nats::Client,
    subject: &str,
    echoes: &mut async_nats::Subscriber,
    nonce: u64,
    stats: &NatsBusStats,
) {
    let sent = Instant::now();
    let payload = nonce.to_be_bytes().to_vec();
    if let Err(error) = client.publish(subject.to_owned(), payload.into()).await {
        tracing::debug!(%error, "NATS round-trip probe not sent");
        stats.count_probe_failure();
        return;
    }
    let deadline = tokio::time::sleep(PROBE_TIMEOUT);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            echo = echoes.next() => match echo {
                // An older probe that came back late: keep waiting for this one.
                Some(message) if message.payload.as_ref() != nonce.to_be_bytes() => continue,
                Some(_) => {
                    stats.round_trip.observe(sent.elapsed());
                    return;
                }
                None => {
                    stats.count_probe_failure();
                    return;
                }
            },
            () = &mut deadline => {
                tracing::debug!(nonce, "NATS round-trip probe timed out");
                stats.count_probe_failure();
                return;
            }
        }
    }
}
