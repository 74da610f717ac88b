//! The OpenWhisk JSON of Whirl's REST API: what clients send and receive, as serde types.
//!
//! These types are shared by the server (`api`) and by clients (the `whirl` CLI), so both speak
//! exactly the same shapes. Each entity has a response type built from its `store` model document
//! (`Action::from_doc`, ...) and a request type for `PUT` that turns into a model document
//! (`ActionPut::to_exec`, ...). Annotations and parameters are `[{key, value}]` arrays
//! ([`KeyValue`]); times are unix epoch milliseconds.

mod action;
mod activation;
mod error;
mod exec;
mod info;
mod key_value;
mod limits;
mod namespace;
mod openfaas;
mod package;
mod rule;
mod strict;
mod trigger;

pub use action::{Action, ActionExecSummary, ActionPut, ActionSummary};
pub use activation::{
    Activation, ActivationIdBody, ActivationLogs, ActivationResponse, ActivationResult,
    ActivationSummary,
};
pub use error::{ErrorBody, WireError};
pub use exec::{resolve_kind, ExecBody, KNOWN_KINDS};
pub use info::{ApiInfo, SwaggerPaths};
pub use key_value::{
    annotation, annotation_is_true, from_json_text, merged, to_json_text, to_object, KeyValue,
};
pub use limits::{ActionLimitsBody, ActionLimitsPut};
pub use namespace::{
    count_body, IssuedNamespaceKey, NamespaceCreate, NamespaceLimitsBody, NamespaceListing,
    NamespaceThrottles,
};
pub use openfaas::{
    FunctionDeletion, FunctionDeployment, FunctionLogLine, FunctionResources, FunctionStatus,
    GatewayInfo, ProviderInfo, ScaleServiceRequest, VersionInfo,
};
pub use package::{Package, PackageActionSummary, PackageBindingBody, PackagePut, PackageSummary};
pub use rule::{EntityPath, Rule, RulePut, RuleStatusBody};
pub use trigger::{Trigger, TriggerPut, TriggerRule};
