//! `ApiState`: what every handler reaches — the store (projections and log), the controller, the
//! key table, the configuration — and `commit`, the one way handlers change entities.

use crate::auth::{Caller, KeyTable};
use crate::cache::EntityCaches;
use crate::config::ApiConfig;
use crate::error::{Error, Result};
use crate::follower::{FollowerWake, LogFollower};
use actix::Addr;
use actix_web::HttpRequest;
use actors::controller_actor::ControllerActor;
use actors::invoker_actor::InvokerActor;
use std::sync::Arc;
use store::{Clock, Event, EventLog, Store};

/// Shared by every worker of the HTTP server.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub controller: Addr<ControllerActor>,
    pub keys: Arc<KeyTable>,
    /// Actions and packages for the invocation path.
    pub caches: Arc<EntityCaches>,
    pub config: Arc<ApiConfig>,
    pub clock: Arc<dyn Clock>,
    /// Serializes entity changes: check, append, apply (entity writes are rare; invocations do
    /// not take it).
    writes: Arc<tokio::sync::Mutex<()>>,
    /// The operator's token for `/admin/v1` (none: the admin routes are off).
    admin_token: Option<Arc<str>>,
    _follower: Arc<LogFollower>,
    /// The alarm feed actor, once `feeds::start_alarm_feeds` started it.
    alarm_feeds: AlarmFeedsSlot,
    /// What `/metrics` reports (the per-function metrics follow the log from here on).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The invoker of this process, if it runs one (its pool state for the console).
    invoker: Option<Addr<InvokerActor>>,
    /// The durable queue non-blocking invocations go through (multi-node with JetStream).
    invocation_queue: Option<Arc<dyn bridge::bus::InvocationQueue>>,
    /// What the OpenFaaS gateway routes share (calls in flight, the backend's kind).
    pub gateway: Arc<crate::openfaas::Gateway>,
    /// The OpenAPI document, built on its first request (`openapi::api_docs`).
    pub(crate) api_docs: Arc<std::sync::OnceLock<String>>,
}

/// Where the started alarm feed actor is kept (so it is started once per state).
pub type AlarmFeedsSlot = Arc<std::sync::Mutex<Option<Addr<crate::feeds::AlarmFeedActor>>>>;

impl ApiState {
    /// The state over an open store and a started controller: loads the key table and starts
    /// following the log.
    pub fn new(
        store: Store,
        controller: Addr<ControllerActor>,
        config: ApiConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let head = store.head_seq();
        store
            .projections()
            .wait_applied(head, std::time::Duration::from_secs(60))
            .map_err(Error::store("catch the projections up"))?;
        let keys = Arc::new(
            KeyTable::load(store.projections()).map_err(Error::store("load the API keys"))?,
        );
        let caches = Arc::new(EntityCaches::default());
        let follower = {
            let (keys, caches) = (Arc::clone(&keys), Arc::clone(&caches));
            LogFollower::start(
                &store,
                head + 1,
                "whirl-api-follower",
                FollowerWake::EntityChanges {
                    period: std::time::Duration::from_secs(1),
                },
                move |record| {
                    keys.apply(&record.event);
                    caches.apply(record.seq, &record.event);
                },
            )
            .map_err(|error| Error::internal("start the log follower", error))?
        };
        let metrics = crate::metrics::Metrics::start(&store, head + 1)
            .map_err(|error| Error::internal("start the metrics' log follower", error))?;
        Ok(Self {
            store,
            controller,
            keys,
            caches,
            config: Arc::new(config),
            clock,
            writes: Arc::new(tokio::sync::Mutex::new(())),
            admin_token: None,
            _follower: Arc::new(follower),
            alarm_feeds: AlarmFeedsSlot::default(),
            metrics: Arc::new(metrics),
            invoker: None,
            invocation_queue: None,
            gateway: Arc::default(),
            api_docs: Arc::default(),
        })
    }

    /// Turns the admin routes on with this bearer token.
    pub fn with_admin_token(mut self, token: &str) -> Self {
        self.admin_token = Some(Arc::from(token));
        self
    }

    /// Sends non-blocking invocations through `queue` (they are accepted once it holds them).
    pub fn with_invocation_queue(mut self, queue: Arc<dyn bridge::bus::InvocationQueue>) -> Self {
        self.invocation_queue = Some(queue);
        self
    }

    /// The durable queue of non-blocking invocations, if there is one.
    pub fn invocation_queue(&self) -> Option<&Arc<dyn bridge::bus::InvocationQueue>> {
        self.invocation_queue.as_ref()
    }

    /// Records the invoker this process runs (none: a controller alone).
    pub fn with_invoker(mut self, invoker: Option<Addr<InvokerActor>>) -> Self {
        self.invoker = invoker;
        self
    }

    /// The invoker this process runs, if any.
    pub fn invoker(&self) -> Option<&Addr<InvokerActor>> {
        self.invoker.as_ref()
    }

    /// The operator's token, if the admin routes are on.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// The slot of the alarm feed actor (see `feeds::start_alarm_feeds`).
    pub fn alarm_feeds_slot(&self) -> &AlarmFeedsSlot {
        &self.alarm_feeds
    }

    /// The current time (unix ms).
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Who `request` authenticated as.
    pub fn authenticate(&self, request: &HttpRequest) -> Result<Caller> {
        self.keys.authenticate(
            request
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .map(|value| value.as_bytes()),
        )
    }

    /// Takes the entity-write lock: hold it from the existence check to the commit.
    pub async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Appends `events`, waits until they are durable and applied to the projections (so the
    /// caller reads its own write), and applies them to the key table and the caches. Returns the
    /// seq of the last one.
    pub async fn commit(&self, events: Vec<Event>) -> Result<u64> {
        let changes = events.clone();
        let receipts = self
            .store
            .log()
            .append(events)
            .await
            .map_err(Error::store("append to the log"))?;
        let seq = receipts.last().map_or(0, |receipt| receipt.seq);
        for (event, receipt) in changes.iter().zip(&receipts) {
            self.keys.apply(event);
            self.caches.apply(receipt.seq, event);
        }
        self.store
            .projections()
            .wait_applied_async(seq)
            .await
            .map_err(Error::store("apply the change to the projections"))?;
        Ok(seq)
    }
}
