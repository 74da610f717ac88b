//! `AppendTicket`: the pending acknowledgement of an append, to wait on from a thread or to
//! `.await` from async code (tokio or actix) without blocking the runtime.

use super::Receipt;
use crate::error::{Error, Result};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

pub(crate) type ReplySender = oneshot::Sender<Result<Vec<Receipt>>>;

/// Resolves once the appended events are durable (or the append failed).
#[must_use = "an append is only known durable once its ticket resolves"]
pub struct AppendTicket {
    state: TicketState,
    log: Arc<PathBuf>,
}

enum TicketState {
    Waiting(oneshot::Receiver<Result<Vec<Receipt>>>),
    Failed(Option<Error>),
}

impl AppendTicket {
    pub(crate) fn channel(log: Arc<PathBuf>) -> (ReplySender, AppendTicket) {
        let (sender, receiver) = oneshot::channel();
        (
            sender,
            AppendTicket {
                state: TicketState::Waiting(receiver),
                log,
            },
        )
    }

    pub(crate) fn failed(log: Arc<PathBuf>, error: Error) -> AppendTicket {
        AppendTicket {
            state: TicketState::Failed(Some(error)),
            log,
        }
    }

    /// Blocks the calling thread until the append is durable. Do not call this on an async
    /// runtime's thread: `.await` the ticket there instead.
    pub fn wait(self) -> Result<Vec<Receipt>> {
        let log = self.log;
        match self.state {
            TicketState::Waiting(receiver) => receiver.blocking_recv().unwrap_or_else(|_| {
                Err(Error::Closed {
                    path: log.as_ref().clone(),
                })
            }),
            TicketState::Failed(error) => Err(error.unwrap_or(Error::Closed {
                path: log.as_ref().clone(),
            })),
        }
    }
}

impl Future for AppendTicket {
    type Output = Result<Vec<Receipt>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.state {
            TicketState::Waiting(receiver) => match Pin::new(receiver).poll(cx) {
                Poll::Ready(Ok(outcome)) => Poll::Ready(outcome),
                Poll::Ready(Err(_)) => Poll::Ready(Err(Error::Closed {
                    path: this.log.as_ref().clone(),
                })),
                Poll::Pending => Poll::Pending,
            },
            TicketState::Failed(error) => Poll::Ready(Err(error.take().unwrap_or(Error::Closed {
                path: this.log.as_ref().clone(),
            }))),
        }
    }
}
