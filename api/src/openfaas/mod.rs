//! The OpenFaaS gateway API over the same platform (see `docs/openfaas.md`): `/system/*` to
//! deploy, list, read, scale and delete functions and to read their logs (Basic auth with a
//! namespace key), `/function/{name}` to call one synchronously and `/async-function/{name}` to
//! queue a call whose result is POSTed to `X-Callback-Url` (at least once, across restarts: see
//! `delivery.rs`). An OpenFaaS function IS an action: visible and invocable through both APIs.

mod answer;
mod async_call;
mod attempts;
mod auth;
mod call;
mod callback;
mod delivery;
pub use delivery::is_delivery_name;
mod deploy;
mod functions;
mod gateway;
mod info;
mod invoke;
mod logs;
mod namespace;
mod redeliver;
mod replicas;
mod resume;
mod scale;
mod settings;
mod text;

pub use answer::{answer_of, FunctionAnswer};
pub use async_call::call_function_async;
pub use attempts::{AsyncMarker, RetryPolicy, ASYNC_PARAM};
pub use callback::{CallbackError, CallbackPolicy, DeliveryOutcome};
pub use delivery::{is_callback_delivery, CallbackDelivery, DeliveryMarker, DELIVERY_PARAM};
pub use deploy::{action_of, DeploymentError};
pub use functions::{delete, deploy, get, list, namespaces, update};
pub use gateway::{Gateway, InFlight};
pub use info::{gateway_info, system_info};
pub use invoke::call_function;
pub use logs::{function_logs, parse_since};
pub use resume::{interrupted_calls, resume, InterruptedCalls, OrphanedCall};
pub use scale::{scale_function, scale_in_pool, MAX_REPLICAS};
pub use settings::{deployment_of, scaling_labels, ScalingLabels};
