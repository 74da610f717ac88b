//! Replica counts of a function, from the pool of this process's invoker: every container
//! dedicated to the function (`replicas`) and those up (`availableReplicas`). A controller without
//! a local invoker reports none.

use crate::state::ApiState;
use actors::invoker_actor::GetActionReplicas;
use store::ActionDoc;

/// `(replicas, availableReplicas)` of the function `doc` (its containers run in its namespace).
pub async fn replicas_of(state: &ApiState, doc: &ActionDoc) -> (u64, u64) {
    let Some(invoker) = state.invoker() else {
        return (0, 0);
    };
    let asked = GetActionReplicas {
        namespace: doc.namespace.clone(),
        action: store::FullyQualifiedName::new(&doc.namespace, &doc.name).to_string(),
    };
    match invoker.send(asked).await {
        Ok(counts) => (counts.replicas as u64, counts.available as u64),
        Err(error) => {
            tracing::warn!(%error, function = %doc.name, "cannot ask the invoker for replicas");
            (0, 0)
        }
    }
}
