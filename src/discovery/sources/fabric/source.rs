//! Reads a fabric's Agents from its cluster (the same connection the cluster target uses).

use std::sync::Arc;

use async_trait::async_trait;

use super::observe::observe_agent;
use super::ports::FabricPortNames;
use crate::config::{CustomFieldNames, FabricConfig};
use crate::discovery::observation::ObservedDevice;
use crate::discovery::source::{Source, SourceError};
use crate::model::Agent;
use crate::netbox::ListQuery;
use crate::profiles::SwitchProfiles;
use crate::targets::TargetError;
use crate::targets::cluster::ClusterTarget;

pub struct FabricSource {
    name: String,
    fabric: String,
    /// The custom field holding a device's fabric, and the others discovery writes.
    names: CustomFieldNames,
    cluster: Arc<ClusterTarget>,
}

impl FabricSource {
    pub fn new(fabric: &FabricConfig, cluster: Arc<ClusterTarget>) -> FabricSource {
        FabricSource {
            name: format!("fabric:{}", fabric.name),
            fabric: fabric.name.clone(),
            names: fabric.mapping.custom_fields.clone(),
            cluster,
        }
    }

    /// Connects to the fabric's cluster with its kubeconfig and context.
    pub async fn connect(fabric: &FabricConfig) -> Result<FabricSource, TargetError> {
        let cluster = ClusterTarget::connect(fabric).await?;
        Ok(FabricSource::new(fabric, Arc::new(cluster)))
    }

    fn error(&self, message: impl ToString) -> SourceError {
        SourceError {
            source_name: self.name.clone(),
            message: message.to_string(),
        }
    }
}

#[async_trait]
impl Source for FabricSource {
    fn name(&self) -> &str {
        &self.name
    }

    /// The fabric's devices (their fabric custom field).
    fn scope(&self) -> ListQuery {
        ListQuery::new().filter(format!("cf_{}", self.names.fabric), &self.fabric)
    }

    async fn observe(&self) -> Result<Vec<ObservedDevice>, SourceError> {
        let objects = self.cluster.agents().await.map_err(|e| self.error(e))?;
        let agents = objects
            .into_iter()
            .map(serde_json::from_value::<Agent>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))?;
        let mut observed: Vec<ObservedDevice> = agents
            .iter()
            .map(|agent| observe_agent(agent, &self.fabric, &self.name, &self.names))
            .collect();
        FabricPortNames::new(&agents, &SwitchProfiles::builtin()).translate(&mut observed);
        Ok(observed)
    }
}
