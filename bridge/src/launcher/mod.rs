//! Talking to an ActionLoop launcher, whoever started it: the connection (requests out, answers
//! back, stdout/stderr split per activation at the sentinels), bounded line reading, and the
//! init and run exchanges with their failure mapping. The process driver reaches its launchers
//! over pipes (`process/spawn.rs`); the Docker driver over a unix socket bind-mounted into the
//! container, with the logs from `docker attach`.

pub(crate) mod connection;
pub(crate) mod lines;
pub(crate) mod session;
