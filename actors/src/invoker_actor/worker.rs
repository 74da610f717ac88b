//! `ContainerWorker`: one task per container that carries out the container's operations in the
//! order the pool decided them, and reports the results to the invoker actor. Runs are spawned once
//! their init is done, so a container with concurrency above one serves several at once.

use super::execution::{self, Execution};
use crate::core::ids::ContainerId as CoreContainerId;
use crate::core::invoker::Executed;
use actix::prelude::*;
use bridge::{ContainerDriver, ContainerSpec};
use std::sync::Arc;
use store::Clock;
use tokio::sync::mpsc;

/// An operation on one container.
pub enum ContainerOp {
    Create(ContainerSpec),
    /// The container exists already (adopted after a restart) under this driver id.
    Adopt(bridge::ContainerId),
    Execute(Box<Execution>),
    Pause,
    Unpause,
    Remove,
}

/// What a worker tells the invoker actor.
#[derive(Message)]
#[rtype(result = "()")]
pub enum WorkerReport {
    Created {
        container: CoreContainerId,
        driver_id: bridge::ContainerId,
    },
    CreateFailed {
        container: CoreContainerId,
        error: String,
        /// The action's image does not exist (its fault; no retry).
        image_unavailable: bool,
    },
    Executed(Executed),
    DriverFailed {
        container: CoreContainerId,
        error: String,
    },
}

/// The handle of a container's worker task.
pub struct ContainerWorker {
    ops: mpsc::UnboundedSender<ContainerOp>,
}

impl ContainerWorker {
    pub fn spawn(
        container: CoreContainerId,
        driver: Arc<dyn ContainerDriver>,
        clock: Arc<dyn Clock>,
        report: Recipient<WorkerReport>,
    ) -> Self {
        let (ops, receiver) = mpsc::unbounded_channel();
        tokio::spawn(work(container, driver, clock, report, receiver));
        ContainerWorker { ops }
    }

    pub fn send(&self, op: ContainerOp) {
        if self.ops.send(op).is_err() {
            tracing::warn!("operation for a container whose worker has ended");
        }
    }
}

async fn work(
    container: CoreContainerId,
    driver: Arc<dyn ContainerDriver>,
    clock: Arc<dyn Clock>,
    report: Recipient<WorkerReport>,
    mut ops: mpsc::UnboundedReceiver<ContainerOp>,
) {
    let mut id: Option<bridge::ContainerId> = None;
    while let Some(op) = ops.recv().await {
        match op {
            ContainerOp::Create(spec) => match driver.create(spec).await {
                Ok(created) => {
                    id = Some(created.clone());
                    report.do_send(WorkerReport::Created {
                        container,
                        driver_id: created,
                    });
                }
                Err(error) => {
                    tracing::warn!(%container, %error, "container create failed");
                    report.do_send(WorkerReport::CreateFailed {
                        container,
                        error: error.to_string(),
                        image_unavailable: matches!(
                            error,
                            bridge::DriverError::ImageUnavailable { .. }
                        ),
                    });
                    return;
                }
            },
            ContainerOp::Adopt(existing) => id = Some(existing),
            ContainerOp::Execute(execution) => {
                let Some(driver_id) = id.clone() else {
                    report.do_send(WorkerReport::Executed(Executed {
                        container,
                        activation: execution.activation.clone(),
                        init: None,
                        run: None,
                        platform_error: Some(format!("{container} does not exist")),
                        logs: Vec::new(),
                        container_lost: true,
                    }));
                    continue;
                };
                match execution::init(&driver, &clock, &driver_id, &execution).await {
                    Err(failed) => report.do_send(WorkerReport::Executed(*failed)),
                    Ok((init, logs)) => {
                        let (driver, clock, report) =
                            (driver.clone(), clock.clone(), report.clone());
                        tokio::spawn(async move {
                            let executed =
                                execution::run(&driver, &clock, &driver_id, *execution, init, logs)
                                    .await;
                            report.do_send(WorkerReport::Executed(executed));
                        });
                    }
                }
            }
            ContainerOp::Pause | ContainerOp::Unpause => {
                let Some(driver_id) = &id else { continue };
                let pause = matches!(op, ContainerOp::Pause);
                let outcome = if pause {
                    driver.pause(driver_id).await
                } else {
                    driver.unpause(driver_id).await
                };
                if let Err(error) = outcome {
                    report.do_send(WorkerReport::DriverFailed {
                        container,
                        error: error.to_string(),
                    });
                }
            }
            ContainerOp::Remove => {
                if let Some(driver_id) = id.take() {
                    if let Err(error) = driver.remove(&driver_id).await {
                        tracing::warn!(%container, %error, "container remove failed");
                    }
                }
                return;
            }
        }
    }
}
