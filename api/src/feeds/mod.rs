//! Alarm feeds, OpenWhisk style: the feed actions of `/whisk.system/alarms` (run by Whirl itself,
//! [`lifecycle`]) write feeds to the log, and the supervised [`AlarmFeedActor`] fires their
//! triggers on schedule through the same path as an HTTP fire, appending a checkpoint after each
//! fire so a restart resumes without firing an occurrence twice. The decisions (cron, intervals,
//! catch-up) are the pure core `actors::core::alarm`. NATS subject feeds (`/whisk.system/nats/subject`,
//! [`subject`]) fire a trigger for every message on a subject ([`SubjectFeeds`], multi-node
//! Whirl). See `docs/feeds.md` and `docs/nats.md`.

mod actor;
#[cfg(test)]
mod actor_tests;
mod convert;
mod error;
mod follow;
mod host;
mod lifecycle;
mod params;
mod subject;
mod subject_runner;

pub use actor::{AlarmFeedActor, AlarmFeedStats, FeedNotice, GetAlarmFeedStats};
pub use convert::AlarmKind;
pub use error::{FeedError, Result};
pub use host::{AlarmFeedHost, FeedFire, FeedFireOutcome};
pub use lifecycle::{alarm_feed_action, invoke_alarm_feed_action, run_lifecycle};
pub use subject::{
    check_subject, invoke_subject_feed_action, run_subject_lifecycle, subject_feed_action,
};
pub use subject_runner::SubjectFeeds;

use crate::state::ApiState;
use actix::Addr;
use std::sync::Arc;

/// Starts the alarm feeds of this platform (once: a second call returns the running actor):
/// the actor, and the thread that tells it of feeds created and deleted from now on. Call it in
/// the process that fires triggers (the controller), inside an actix system, once.
pub fn start_alarm_feeds(state: &ApiState) -> Result<Addr<AlarmFeedActor>> {
    let slot = state.alarm_feeds_slot();
    let mut started = slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(addr) = started.as_ref().filter(|addr| addr.connected()) {
        return Ok(addr.clone());
    }
    let from_seq = state.store.head_seq() + 1;
    let host: Arc<dyn AlarmFeedHost> = Arc::new(state.clone());
    let addr = AlarmFeedActor::new(host).start_supervised();
    follow::follow_feed_notices(&state.store, from_seq, addr.clone())
        .map_err(|error| FeedError::internal("start the feed follower")(error.to_string()))?;
    *started = Some(addr.clone());
    Ok(addr)
}
