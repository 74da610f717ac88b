//! What travels on the simulated bus between the controller and the invokers, and the events the
//! scheduler delivers.

use actors::core::invoker::{Executed, RunSpec};
use actors::core::lifecycle::ActivationOutcome;
use actors::core::{ActivationId, ContainerId, InvokerId};

/// A message on the bus.
#[derive(Clone, Debug)]
pub enum Message {
    /// Controller → invoker: run this activation.
    Run(Box<RunSpec>),
    /// Invoker → controller: the activation started executing in a container.
    Started {
        activation: ActivationId,
        invoker: InvokerId,
    },
    /// Invoker → controller: the activation ended.
    Completed {
        invoker: InvokerId,
        outcome: Box<ActivationOutcome>,
        /// Whether it ended with a whisk internal error the invoker is to blame for.
        system_error: bool,
    },
    /// Invoker → controller: alive.
    Ping {
        invoker: InvokerId,
        user_memory_mb: u64,
        incarnation: u64,
    },
}

impl Message {
    /// A one-line canonical rendering for the trace.
    pub fn render(&self) -> String {
        match self {
            Message::Run(spec) => format!("run {} {}", spec.activation, spec.action),
            Message::Started {
                activation,
                invoker,
            } => format!("started {activation} on {invoker}"),
            Message::Completed {
                invoker, outcome, ..
            } => format!(
                "completed {} on {invoker} {}",
                outcome.activation, outcome.status
            ),
            Message::Ping {
                invoker,
                incarnation,
                ..
            } => format!("ping {invoker}#{incarnation}"),
        }
    }
}

/// Where a bus message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Controller,
    Invoker(InvokerId),
}

/// Everything the scheduler can deliver.
#[derive(Clone, Debug)]
pub enum SimEvent {
    /// The next client operation.
    ClientOp,
    /// A bus message arrives.
    Deliver {
        to: Node,
        message: Message,
    },
    /// The controller's group commit.
    Flush,
    /// The controller's read model persists its rows and checkpoint.
    Checkpoint,
    /// The controller's once-a-second tick.
    ControllerTick,
    /// An invoker's once-a-second tick and ping.
    InvokerTick(InvokerId),
    /// The driver finished creating a container for the invoker process `epoch`.
    ContainerReady {
        invoker: InvokerId,
        epoch: u64,
        container: ContainerId,
    },
    /// The driver finished an execution for the invoker process `epoch`.
    ExecutionDone {
        invoker: InvokerId,
        epoch: u64,
        executed: Box<Executed>,
    },
    /// A pause, unpause or remove failed.
    DriverOpFailed {
        invoker: InvokerId,
        epoch: u64,
        container: ContainerId,
    },
    ControllerCrash,
    ControllerRestart,
    InvokerCrash(InvokerId),
    InvokerRestart(InvokerId),
    /// Clients stop, faults stop, crashed processes come back; the run drains.
    Heal,
}

impl SimEvent {
    /// A one-line canonical rendering for the trace.
    pub fn render(&self) -> String {
        match self {
            SimEvent::ClientOp => "client".to_string(),
            SimEvent::Deliver { to, message } => {
                let to = match to {
                    Node::Controller => "controller".to_string(),
                    Node::Invoker(i) => i.to_string(),
                };
                format!("deliver to {to}: {}", message.render())
            }
            SimEvent::Flush => "flush".to_string(),
            SimEvent::Checkpoint => "checkpoint".to_string(),
            SimEvent::ControllerTick => "controller tick".to_string(),
            SimEvent::InvokerTick(i) => format!("{i} tick"),
            SimEvent::ContainerReady {
                invoker,
                epoch,
                container,
            } => format!("{invoker}#{epoch} {container} ready"),
            SimEvent::ExecutionDone {
                invoker,
                epoch,
                executed,
            } => format!(
                "{invoker}#{epoch} {} executed {} lost={}",
                executed.container, executed.activation, executed.container_lost
            ),
            SimEvent::DriverOpFailed {
                invoker,
                epoch,
                container,
            } => format!("{invoker}#{epoch} {container} driver op failed"),
            SimEvent::ControllerCrash => "controller crash".to_string(),
            SimEvent::ControllerRestart => "controller restart".to_string(),
            SimEvent::InvokerCrash(i) => format!("{i} crash"),
            SimEvent::InvokerRestart(i) => format!("{i} restart"),
            SimEvent::Heal => "heal".to_string(),
        }
    }
}
