//! `AlarmFeedActor`: hosts the alarm core ([`AlarmScheduler`]) under `actix::Supervisor`.
//!
//! On (re)start it loads every alarm feed and its checkpoint from the log, ticks at once (which
//! fires the catch-up occurrence of a feed that fell due while Whirl was down), then sleeps until
//! the next occurrence. Each fire goes through the platform's trigger fire path, then its
//! checkpoint (`FeedFired`) is appended. Feed notices ([`FeedNotice`]) add and remove feeds. A
//! failed checkpoint stops the actor; the supervisor restarts it and it rebuilds from the log.

use super::convert::alarm_feed;
use super::host::{AlarmFeedHost, FeedFire, FeedFireOutcome};
use ::actors::core::alarm::{AlarmEffect, AlarmInput, AlarmScheduler, FeedKey};
use ::actors::core::time::Millis;
use ::actors::Restart;
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use store::FeedDoc;

/// The longest the actor sleeps between two looks at the clock (a wall clock that jumps is
/// noticed within this).
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// A feed was created or deleted (from the log, whoever wrote it).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum FeedNotice {
    Created(FeedDoc),
    Deleted { namespace: String, name: String },
}

/// Asks for the actor's counters.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "AlarmFeedStats")]
pub struct GetAlarmFeedStats;

/// What the actor has done since it was first started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlarmFeedStats {
    /// Alarm feeds scheduled now.
    pub feeds: usize,
    /// Fires that recorded a trigger activation.
    pub fires: u64,
    /// Fires that stood in for missed occurrences.
    pub catch_up_fires: u64,
    /// Fires that failed (throttled, platform error); their occurrences are not retried.
    pub failed_fires: u64,
    pub restarts: u64,
}

/// The supervised host of the alarm scheduler.
pub struct AlarmFeedActor {
    host: Arc<dyn AlarmFeedHost>,
    core: AlarmScheduler,
    timer: Option<SpawnHandle>,
    stats: AlarmFeedStats,
}

impl AlarmFeedActor {
    pub fn new(host: Arc<dyn AlarmFeedHost>) -> Self {
        Self {
            host,
            core: AlarmScheduler::new(),
            timer: None,
            stats: AlarmFeedStats::default(),
        }
    }

    /// Starts the actor under a supervisor.
    pub fn start_supervised(self) -> Addr<Self> {
        Supervisor::start(move |_| self)
    }

    fn now(&self) -> Millis {
        Millis(self.host.now_ms())
    }

    /// Rebuilds the core from the log; false when the log cannot be read.
    fn load(&mut self) -> bool {
        self.core = AlarmScheduler::new();
        let feeds = match self.host.alarm_feeds() {
            Ok(feeds) => feeds,
            Err(error) => {
                tracing::error!(%error, "alarm feeds cannot be loaded");
                return false;
            }
        };
        let now = self.now();
        for state in feeds {
            match alarm_feed(&state.feed) {
                Some(Ok(feed)) => {
                    self.core.handle(
                        AlarmInput::Loaded {
                            feed,
                            fired_up_to_ms: state.fired_up_to_ms,
                        },
                        now,
                    );
                }
                Some(Err(error)) => tracing::warn!(%error, "alarm feed skipped"),
                None => {}
            }
        }
        tracing::info!(feeds = self.core.len(), "alarm feeds loaded");
        true
    }

    /// Fires what is due, then sleeps until the next occurrence.
    fn tick(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let effects = self.core.handle(AlarmInput::Tick, self.now());
        if effects.is_empty() {
            self.sleep(ctx);
            return;
        }
        let host = Arc::clone(&self.host);
        let work = async move { carry_out(host.as_ref(), effects).await };
        // `wait`: no notice or tick is handled until these fires and checkpoints are done.
        ctx.wait(work.into_actor(self).map(|done, actor, ctx| {
            actor.stats.fires += done.fires;
            actor.stats.catch_up_fires += done.catch_up_fires;
            actor.stats.failed_fires += done.failed_fires;
            if done.checkpoint_failed {
                // The supervisor restarts the actor from the log's checkpoints.
                ctx.stop();
            } else {
                actor.tick(ctx);
            }
        }));
    }

    fn sleep(&mut self, ctx: &mut Context<Self>) {
        let Some(next) = self.core.next_wake() else {
            return;
        };
        let delay = Duration::from_millis(next.since(self.now())).min(MAX_SLEEP);
        self.timer = Some(ctx.run_later(delay, |actor, ctx| {
            actor.timer = None;
            actor.tick(ctx);
        }));
    }
}

/// What one batch of effects did.
#[derive(Default)]
struct Done {
    fires: u64,
    catch_up_fires: u64,
    failed_fires: u64,
    checkpoint_failed: bool,
}

/// Carries out the effects in order: each fire, then its checkpoint. A fire that fails is not
/// retried (its checkpoint is still appended); a checkpoint that fails ends the batch.
async fn carry_out(host: &dyn AlarmFeedHost, effects: Vec<AlarmEffect>) -> Done {
    let mut done = Done::default();
    // A feed found gone at its fire gets no checkpoint (there is nothing left to resume).
    let mut gone: Option<FeedKey> = None;
    for effect in effects {
        match effect {
            AlarmEffect::Fire {
                key,
                trigger,
                payload,
                occurrence_ms,
                missed,
                created_ms,
            } => {
                let fire = FeedFire {
                    key: key.clone(),
                    trigger,
                    payload,
                    occurrence_ms,
                    created_ms,
                };
                match host.fire(fire).await {
                    Ok(outcome) => {
                        if let FeedFireOutcome::Fired(id) = &outcome {
                            done.fires += 1;
                            if missed > 0 {
                                done.catch_up_fires += 1;
                            }
                            tracing::info!(feed = %key, activation_id = %id, occurrence_ms, missed, "alarm fired");
                        } else {
                            tracing::info!(feed = %key, occurrence_ms, ?outcome, "alarm fire did nothing");
                        }
                        if matches!(
                            outcome,
                            FeedFireOutcome::FeedGone | FeedFireOutcome::TriggerGone
                        ) {
                            gone = Some(key.clone());
                        }
                    }
                    Err(error) => {
                        done.failed_fires += 1;
                        tracing::warn!(feed = %key, occurrence_ms, %error, "alarm fire failed");
                    }
                }
            }
            AlarmEffect::Checkpoint {
                key,
                fired_up_to_ms,
            } => {
                if gone.as_ref() == Some(&key) {
                    continue;
                }
                if let Err(error) = host.checkpoint(key.clone(), fired_up_to_ms).await {
                    tracing::error!(feed = %key, fired_up_to_ms, %error, "feed checkpoint failed");
                    done.checkpoint_failed = true;
                    return done;
                }
            }
        }
    }
    done
}

impl Actor for AlarmFeedActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.load() {
            self.tick(ctx);
        } else {
            ctx.stop();
        }
    }
}

impl Supervised for AlarmFeedActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        self.stats.restarts += 1;
        self.timer = None;
        tracing::warn!(
            restarts = self.stats.restarts,
            "alarm feed actor restarting"
        );
    }
}

impl Handler<FeedNotice> for AlarmFeedActor {
    type Result = ();

    fn handle(&mut self, notice: FeedNotice, ctx: &mut Context<Self>) {
        let now = self.now();
        match notice {
            FeedNotice::Created(doc) => match alarm_feed(&doc) {
                Some(Ok(feed)) => {
                    self.core.handle(AlarmInput::Added(feed), now);
                }
                Some(Err(error)) => tracing::warn!(%error, "alarm feed skipped"),
                None => return,
            },
            FeedNotice::Deleted { namespace, name } => {
                self.core
                    .handle(AlarmInput::Removed(FeedKey::new(namespace, name)), now);
            }
        }
        self.tick(ctx);
    }
}

impl Handler<GetAlarmFeedStats> for AlarmFeedActor {
    type Result = MessageResult<GetAlarmFeedStats>;

    fn handle(&mut self, _: GetAlarmFeedStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(AlarmFeedStats {
            feeds: self.core.len(),
            ..self.stats
        })
    }
}

impl Handler<Restart> for AlarmFeedActor {
    type Result = ();

    fn handle(&mut self, _: Restart, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
