//! `AppendTicket`: the pending acknowledgement of an append, to wait on from a thread or to
//! `.await` from async code (tokio or actix) without blocking the runtime; and `OnDurable`, the
//! function the log calls instead when the append came through `EventLog::append_then`.

use super::Receipt;
use crate::error::{Error, Result};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// What runs on the log's thread once an append is durable (or failed), for
/// [`EventLog::append_then`](super::EventLog::append_then).
pub type OnDurable = Box<dyn FnOnce(Result<Vec<Receipt>>) + Send>;

/// Where the writer sends an append's outcome: a ticket's channel, or a function it calls.
pub(crate) enum ReplySender {
    Ticket(oneshot::Sender<Result<Vec<Receipt>>>),
    Call(OnDurable),
}

impl ReplySender {
    /// Delivers the outcome (a ticket dropped by its owner just does not hear it).
    pub(crate) fn send(self, outcome: Result<Vec<Receipt>>) {
        match self {
            ReplySender::Ticket(sender) => {
                let _ = sender.send(outcome);
            }
            ReplySender::Call(call) => call(outcome),
        }
    }
}

/// Resolves once the appended events are durable (or the append failed).
#[must_use = "an append is only known durable once its ticket resolves"]
pub struct AppendTicket {
    receiver: oneshot::Receiver<Result<Vec<Receipt>>>,
    log: Arc<PathBuf>,
}

impl AppendTicket {
    pub(crate) fn channel(log: Arc<PathBuf>) -> (ReplySender, AppendTicket) {
        let (sender, receiver) = oneshot::channel();
        (ReplySender::Ticket(sender), AppendTicket { receiver, log })
    }

    /// Blocks the calling thread until the append is durable. Do not call this on an async
    /// runtime's thread: `.await` the ticket there instead.
    pub fn wait(self) -> Result<Vec<Receipt>> {
        let log = self.log;
        self.receiver.blocking_recv().unwrap_or_else(|_| {
            Err(Error::Closed {
                path: log.as_ref().clone(),
            })
        })
    }
}

impl Future for AppendTicket {
    type Output = Result<Vec<Receipt>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match Pin::new(&mut this.receiver).poll(cx) {
            Poll::Ready(Ok(outcome)) => Poll::Ready(outcome),
            Poll::Ready(Err(_)) => Poll::Ready(Err(Error::Closed {
                path: this.log.as_ref().clone(),
            })),
            Poll::Pending => Poll::Pending,
        }
    }
}
