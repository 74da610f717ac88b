//! Packages and package bindings on the wire. `binding` is `{}` for a package and
//! `{namespace, name}` for a binding to another package.

use super::{from_json_text, KeyValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::{ActionDoc, PackageBinding, PackageDoc};

/// `binding`: empty for a plain package, `{namespace, name}` for a binding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PackageBindingBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(required, pattern(crate::names::NAME_PATTERN))]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(required, pattern(crate::names::NAME_PATTERN))]
    pub name: Option<String>,
}

impl PackageBindingBody {
    /// `{namespace, name}`.
    pub fn to(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
        }
    }

    pub fn from_binding(binding: Option<&PackageBinding>) -> Self {
        match binding {
            Some(binding) => Self::to(&binding.namespace, &binding.name),
            None => Self::default(),
        }
    }

    /// The stored binding: `None` for `{}`; otherwise both fields are needed, and the `Err`
    /// names the missing one.
    pub fn to_binding(&self) -> Result<Option<PackageBinding>, &'static str> {
        match (&self.namespace, &self.name) {
            (None, None) => Ok(None),
            (Some(namespace), Some(name)) => Ok(Some(PackageBinding {
                namespace: namespace.clone(),
                name: name.clone(),
            })),
            (None, Some(_)) => Err("binding.namespace"),
            (Some(_), None) => Err("binding.name"),
        }
    }

    pub fn is_binding(&self) -> bool {
        self.namespace.is_some() || self.name.is_some()
    }
}

/// One action listed inside a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackageActionSummary {
    pub name: String,
    pub version: String,
    pub annotations: Vec<KeyValue>,
}

impl PackageActionSummary {
    pub fn from_doc(doc: &ActionDoc) -> Self {
        Self {
            name: doc.name.clone(),
            version: doc.version.to_string(),
            annotations: from_json_text(&doc.annotations),
        }
    }
}

/// A package as `GET /namespaces/{ns}/packages/{name}` returns it. For a binding, `parameters`
/// are the bound package's merged with the binding's, and `actions` are the bound package's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Package {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub publish: bool,
    pub annotations: Vec<KeyValue>,
    pub parameters: Vec<KeyValue>,
    pub binding: PackageBindingBody,
    #[serde(default)]
    pub actions: Vec<PackageActionSummary>,
    #[serde(default)]
    pub feeds: Vec<serde_json::Value>,
    pub updated: u64,
}

impl Package {
    /// The response form of `doc` with its `actions` and effective `parameters`.
    pub fn from_doc(doc: &PackageDoc, parameters: Vec<KeyValue>, actions: &[ActionDoc]) -> Self {
        Self {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            publish: doc.publish,
            annotations: from_json_text(&doc.annotations),
            parameters,
            binding: PackageBindingBody::from_binding(doc.binding.as_ref()),
            actions: actions.iter().map(PackageActionSummary::from_doc).collect(),
            feeds: Vec::new(),
            updated: doc.updated_ms,
        }
    }
}

/// One package of `GET /namespaces/{ns}/packages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackageSummary {
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub publish: bool,
    pub annotations: Vec<KeyValue>,
    pub binding: PackageBindingBody,
    pub updated: u64,
}

impl PackageSummary {
    pub fn from_doc(doc: &PackageDoc) -> Self {
        Self {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.to_string(),
            publish: doc.publish,
            annotations: from_json_text(&doc.annotations),
            binding: PackageBindingBody::from_binding(doc.binding.as_ref()),
            updated: doc.updated_ms,
        }
    }
}

/// The body of `PUT /namespaces/{ns}/packages/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackagePut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<bool>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub annotations: Option<Vec<KeyValue>>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_objects",
        skip_serializing_if = "Option::is_none"
    )]
    pub parameters: Option<Vec<KeyValue>>,
    #[serde(
        default,
        deserialize_with = "super::strict::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub binding: Option<PackageBindingBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn binding_is_an_empty_object_or_namespace_and_name() {
        assert_eq!(
            serde_json::to_value(PackageBindingBody::default()).unwrap(),
            json!({})
        );
        let put: PackagePut =
            serde_json::from_str(r#"{"binding":{"namespace":"whisk.system","name":"utils"}}"#)
                .unwrap();
        let binding = put.binding.unwrap().to_binding().unwrap().unwrap();
        assert_eq!(binding.name, "utils");
        let half: PackageBindingBody = serde_json::from_str(r#"{"name":"utils"}"#).unwrap();
        assert_eq!(half.to_binding(), Err("binding.namespace"));
    }
}
