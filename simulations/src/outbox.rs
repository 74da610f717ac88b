//! What a simulated process asks the world to do after handling an event: send bus messages and
//! schedule its own future events. Processes never touch the scheduler or the bus directly, so
//! each can be handled with only its own state borrowed.

use crate::messages::{Message, Node, SimEvent};

/// Requests collected while one event is handled, carried out in order.
#[derive(Debug, Default)]
pub struct Outbox {
    pub sends: Vec<(Node, Message)>,
    pub timers: Vec<(u64, SimEvent)>,
}

impl Outbox {
    /// Sends `message` to `to` over the bus.
    pub fn send(&mut self, to: Node, message: Message) {
        self.sends.push((to, message));
    }

    /// Schedules `event` `delay_ms` from now.
    pub fn after(&mut self, delay_ms: u64, event: SimEvent) {
        self.timers.push((delay_ms, event));
    }
}
