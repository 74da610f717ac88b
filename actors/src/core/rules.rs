//! Rules: what a trigger fire does. Given the trigger and the rules of its namespace, the core says
//! which rules fire (active ones naming the trigger, in name order) or that none does (the API then
//! answers 204 and records nothing), and writes the trigger activation's log line for each rule:
//! `{"statusCode":0,"success":true,"activationId":"...","rule":"ns/r","action":"ns/a"}`, or with
//! `"error"` instead of the activation id when the rule's action could not be invoked.
//!
//! Pure: no I/O, no clock; rules are matched on their fully-qualified names as given.

use serde::{Deserialize, Serialize};

/// One rule as the core sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    /// `namespace/rule`.
    pub name: String,
    /// The trigger's fully-qualified name, `/namespace/trigger`.
    pub trigger: String,
    /// The action's fully-qualified name, `/namespace/[package/]action`.
    pub action: String,
    pub active: bool,
}

/// What a fire of one trigger does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FireDecision {
    /// No active rule names the trigger: answer 204, record nothing.
    NoActiveRule,
    /// Invoke the action of each of these rules (non-blocking, caused by the trigger's activation).
    Fire(Vec<RuleView>),
}

/// Decides a fire of `trigger` (`/namespace/name`) given the rules of its namespace.
pub fn decide_fire(trigger: &str, rules: &[RuleView]) -> FireDecision {
    let mut firing: Vec<RuleView> = rules
        .iter()
        .filter(|rule| rule.active && rule.trigger == trigger)
        .cloned()
        .collect();
    if firing.is_empty() {
        return FireDecision::NoActiveRule;
    }
    firing.sort_by(|a, b| a.name.cmp(&b.name));
    FireDecision::Fire(firing)
}

/// How invoking one rule's action went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleOutcome {
    /// The invocation was accepted with this activation id.
    Invoked { activation_id: String },
    /// It was not: `status_code` is the activation status code OpenWhisk reports (1 when the
    /// action is missing or not allowed, 3 when the platform refused or failed), `error` says why.
    Failed { status_code: u8, error: String },
}

/// The trigger activation's log line for one rule. The action is written without its leading `/`
/// (`ns/a`), as OpenWhisk does.
pub fn fire_log_line(rule: &RuleView, outcome: &RuleOutcome) -> String {
    let action = rule.action.trim_start_matches('/');
    let line = match outcome {
        RuleOutcome::Invoked { activation_id } => serde_json::json!({
            "statusCode": 0,
            "success": true,
            "activationId": activation_id,
            "rule": rule.name,
            "action": action,
        }),
        RuleOutcome::Failed { status_code, error } => serde_json::json!({
            "statusCode": status_code,
            "success": false,
            "error": error,
            "rule": rule.name,
            "action": action,
        }),
    };
    line.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rule(name: &str, trigger: &str, action: &str, active: bool) -> RuleView {
        RuleView {
            name: name.into(),
            trigger: trigger.into(),
            action: action.into(),
            active,
        }
    }

    #[test]
    fn only_active_rules_of_the_trigger_fire_in_name_order() {
        let rules = vec![
            rule("guest/z", "/guest/t", "/guest/a", true),
            rule("guest/off", "/guest/t", "/guest/a", false),
            rule("guest/other", "/guest/u", "/guest/a", true),
            rule("guest/b", "/guest/t", "/guest/p/b", true),
        ];
        match decide_fire("/guest/t", &rules) {
            FireDecision::Fire(firing) => {
                let names: Vec<&str> = firing.iter().map(|r| r.name.as_str()).collect();
                assert_eq!(names, ["guest/b", "guest/z"]);
            }
            FireDecision::NoActiveRule => panic!("two rules are active"),
        }
    }

    #[test]
    fn no_active_rule_means_no_fire() {
        let rules = vec![rule("guest/off", "/guest/t", "/guest/a", false)];
        assert_eq!(decide_fire("/guest/t", &rules), FireDecision::NoActiveRule);
        assert_eq!(decide_fire("/guest/t", &[]), FireDecision::NoActiveRule);
    }

    #[test]
    fn log_lines_carry_the_activation_id_or_the_error() {
        let r = rule("guest/r", "/guest/t", "/guest/a", true);
        let ok: serde_json::Value = serde_json::from_str(&fire_log_line(
            &r,
            &RuleOutcome::Invoked {
                activation_id: "ab".into(),
            },
        ))
        .unwrap();
        assert_eq!(
            ok,
            serde_json::json!({"statusCode":0,"success":true,"activationId":"ab","rule":"guest/r","action":"guest/a"})
        );
        let failed: serde_json::Value = serde_json::from_str(&fire_log_line(
            &r,
            &RuleOutcome::Failed {
                status_code: 1,
                error: "The requested resource does not exist.".into(),
            },
        ))
        .unwrap();
        assert_eq!(failed["success"], false);
        assert_eq!(failed["statusCode"], 1);
        assert!(failed.get("activationId").is_none());
    }
}
