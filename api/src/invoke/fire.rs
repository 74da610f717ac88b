//! Trigger fires: the fire is throttled per namespace, the rules core picks the active rules of the
//! trigger, each rule's action is invoked non-blocking (caused by the trigger's activation), and the
//! trigger's own activation is recorded (result: the fire payload; logs: one line per rule).

use super::{invoke, InvocationContext};
use crate::access::resolve_action;
use crate::error::{Error, Result};
use crate::state::ApiState;
use crate::wire::{from_json_text, to_object};
use actors::controller_actor::AdmitFire;
use actors::core::rules::{decide_fire, fire_log_line, FireDecision, RuleOutcome, RuleView};
use serde_json::{json, Map, Value};
use store::{
    ActivationDoc, ActivationId, ActivationStatus, EntityDoc, EntityKind, Event, EventLog,
    FullyQualifiedName, JsonText, RuleStatus, TriggerDoc,
};

/// What a fire did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireOutcome {
    /// No active rule: nothing recorded (204).
    NoActiveRule,
    /// The trigger's activation (202).
    Fired(ActivationId),
}

fn rules_of(state: &ApiState, namespace: &str) -> Result<Vec<RuleView>> {
    let docs = state
        .store
        .projections()
        .list_entities(namespace, EntityKind::Rule, 0, 0)
        .map_err(Error::store("list the rules"))?;
    Ok(docs
        .into_iter()
        .filter_map(|doc| match doc {
            EntityDoc::Rule(rule) => Some(RuleView {
                name: format!("{}/{}", rule.namespace, rule.name),
                trigger: rule.trigger.to_string(),
                action: rule.action.to_string(),
                active: rule.status == RuleStatus::Active,
            }),
            _ => None,
        })
        .collect())
}

async fn invoke_rule(
    state: &ApiState,
    context: &InvocationContext,
    rule: &RuleView,
    payload: &Map<String, Value>,
) -> RuleOutcome {
    let resolved = rule
        .action
        .parse::<FullyQualifiedName>()
        .map_err(|error| Error::bad(error.to_string()))
        .and_then(|name| resolve_action(state, &context.subject, &name));
    let resolved = match resolved {
        Ok(resolved) => resolved,
        Err(error) => {
            return RuleOutcome::Failed {
                status_code: 1,
                error: error.to_string(),
            }
        }
    };
    let mut params = to_object(&resolved.parameters);
    params.extend(payload.clone());
    match invoke(state, context, &resolved, params, None).await {
        Ok(outcome) => RuleOutcome::Invoked {
            activation_id: outcome.activation_id().to_string(),
        },
        Err(error) => RuleOutcome::Failed {
            status_code: 3,
            error: error.to_string(),
        },
    }
}

/// Fires `trigger` with the request's `payload` (merged over the trigger's parameters).
pub async fn fire_trigger(
    state: &ApiState,
    context: &InvocationContext,
    trigger: &TriggerDoc,
    payload: Map<String, Value>,
) -> Result<FireOutcome> {
    state
        .controller
        .send(AdmitFire {
            namespace: trigger.namespace.clone(),
        })
        .await
        .map_err(|error| Error::internal("reach the controller", error))??;
    let trigger_name = FullyQualifiedName::new(&trigger.namespace, &trigger.name).to_string();
    let firing = match decide_fire(&trigger_name, &rules_of(state, &trigger.namespace)?) {
        FireDecision::NoActiveRule => return Ok(FireOutcome::NoActiveRule),
        FireDecision::Fire(firing) => firing,
    };
    let activation_id = ActivationId::generate();
    let start_ms = state.now_ms();
    let mut fire_payload = to_object(&from_json_text(&trigger.parameters));
    fire_payload.extend(payload);
    let rule_context = context.caused_by(activation_id, None);
    let mut logs = Vec::with_capacity(firing.len());
    for rule in &firing {
        let outcome = invoke_rule(state, &rule_context, rule, &fire_payload).await;
        logs.push(fire_log_line(rule, &outcome));
    }
    let record = ActivationDoc {
        activation_id,
        namespace: context.subject.clone(),
        name: trigger.name.clone(),
        package: None,
        subject: context.subject.clone(),
        version: trigger.version,
        start_ms,
        end_ms: start_ms,
        duration_ms: 0,
        cause: context.cause,
        status: ActivationStatus::Success,
        result: JsonText::from_value(&Value::Object(fire_payload)),
        logs,
        annotations: JsonText::from_value(&json!([
            {"key": "path", "value": format!("{}/{}", trigger.namespace, trigger.name)},
            {"key": "kind", "value": "trigger"},
        ])),
    };
    state
        .store
        .log()
        .append(vec![Event::ActivationRecorded(record)])
        .await
        .map_err(Error::store("record the trigger activation"))?;
    tracing::debug!(activation_id = %activation_id, trigger = %trigger_name, rules = firing.len(), "trigger fired");
    Ok(FireOutcome::Fired(activation_id))
}
