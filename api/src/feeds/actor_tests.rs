//! The alarm feed actor on a fake host: it fires on schedule, appends a checkpoint after each
//! fire, and a restart in the middle of a schedule resumes from the checkpoints without firing an
//! occurrence twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::actor::{AlarmFeedActor, GetAlarmFeedStats};
use super::error::Result;
use super::host::{AlarmFeedHost, FeedFire, FeedFireOutcome};
use ::actors::core::alarm::FeedKey;
use ::actors::Restart;
use futures::future::LocalBoxFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{
    ActivationId, AlarmSchedule, FeedDoc, FeedSource, FeedState, FullyQualifiedName, JsonText,
};

/// Feeds and checkpoints in memory (what the log would hold), and every fire.
struct FakeHost {
    feed: FeedDoc,
    fired_up_to: Mutex<Option<u64>>,
    fires: Mutex<Vec<u64>>,
}

impl AlarmFeedHost for FakeHost {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    fn alarm_feeds(&self) -> Result<Vec<FeedState>> {
        Ok(vec![FeedState {
            feed: self.feed.clone(),
            fired_up_to_ms: *self.fired_up_to.lock().unwrap(),
        }])
    }

    fn fire(&self, fire: FeedFire) -> LocalBoxFuture<'_, Result<FeedFireOutcome>> {
        Box::pin(async move {
            // A fire takes a while, so restarts land in the middle of some.
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.fires.lock().unwrap().push(fire.occurrence_ms);
            Ok(FeedFireOutcome::Fired(ActivationId::generate()))
        })
    }

    fn checkpoint(&self, _: FeedKey, fired_up_to_ms: u64) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            *self.fired_up_to.lock().unwrap() = Some(fired_up_to_ms);
            Ok(())
        })
    }
}

#[test]
fn a_restart_mid_schedule_resumes_without_firing_twice() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let host = Arc::new(FakeHost {
        feed: FeedDoc {
            namespace: "ns".into(),
            name: "t".into(),
            trigger: FullyQualifiedName::new("ns", "t"),
            source: FeedSource::Alarm {
                schedule: AlarmSchedule::IntervalMs(50),
                start_ms: Some(now + 50),
                stop_ms: None,
                payload: JsonText::empty_object(),
            },
            created_ms: now,
        },
        fired_up_to: Mutex::new(None),
        fires: Mutex::new(Vec::new()),
    });
    let stats = actix_rt::System::new().block_on({
        let host = Arc::clone(&host);
        async move {
            let addr = AlarmFeedActor::new(host).start_supervised();
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(170)).await;
                addr.send(Restart).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            addr.send(GetAlarmFeedStats).await.unwrap()
        }
    });
    let fires = host.fires.lock().unwrap().clone();
    assert_eq!(stats.restarts, 4);
    assert_eq!(stats.feeds, 1);
    assert!(fires.len() >= 10, "only {} fires: {fires:?}", fires.len());
    assert!(
        fires.windows(2).all(|pair| pair[0] < pair[1]),
        "an occurrence fired twice or out of order: {fires:?}"
    );
    // Every fire is an occurrence of the schedule, and the checkpoint is the last one.
    assert!(
        fires.iter().all(|t| (t - (now + 50)).is_multiple_of(50)),
        "{fires:?}"
    );
    assert_eq!(*host.fired_up_to.lock().unwrap(), fires.last().copied());
    assert_eq!(stats.fires, fires.len() as u64);
}
