//! `FeedNoticeFollower`: a thread that reads the log from a seq on and tells the alarm feed actor
//! of every feed created or deleted, whoever wrote it. It sleeps through activation records
//! (waking when an entity changes, or every 200 ms). It outlives restarts of the actor (its
//! address stays valid under the supervisor) and ends when the actor is gone or the log fails.

use super::actor::{AlarmFeedActor, FeedNotice};
use actix::Addr;
use std::time::Duration;
use store::{Event, EventLog, Store};

/// Starts following `store`'s log from `from_seq` for `actor`.
pub fn follow_feed_notices(
    store: &Store,
    from_seq: u64,
    actor: Addr<AlarmFeedActor>,
) -> std::io::Result<()> {
    let mut subscription = store.log().subscribe(from_seq);
    std::thread::Builder::new()
        .name("whirl-feed-follower".into())
        .spawn(move || {
            while actor.connected() {
                let batch = match subscription.next_entity_events(256, Duration::from_millis(200)) {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::error!(%error, "the feed follower stopped; new feeds are seen on the next restart");
                        return;
                    }
                };
                for record in batch {
                    let notice = match record.event {
                        Event::FeedCreated { feed, .. } => FeedNotice::Created(feed),
                        Event::FeedDeleted {
                            namespace, name, ..
                        } => FeedNotice::Deleted { namespace, name },
                        _ => continue,
                    };
                    actor.do_send(notice);
                }
            }
        })?;
    Ok(())
}
