//! A job: one NetBox object that changed and must be processed.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::attribution::NetBoxChange;

/// A webhook's `data` (the object as NetBox's REST API shows it), kept as the JSON text NetBox
/// sent. Intake reads only a few fields of it; keeping the text spares parsing and
/// re-serialising a 3 KB object on the hot path, and stores it exactly as delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventData(Box<RawValue>);

impl EventData {
    pub(crate) fn from_raw(raw: Box<RawValue>) -> Self {
        Self(raw)
    }

    /// JSON `null`: the place of a body kept elsewhere.
    pub fn null() -> Self {
        Self(RawValue::NULL.to_owned())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The object as a JSON value (for code that inspects it; intake never needs to).
    pub fn parse(&self) -> serde_json::Value {
        // The text was JSON when it was stored, so this cannot fail.
        serde_json::from_str(self.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl From<serde_json::Value> for EventData {
    fn from(value: serde_json::Value) -> Self {
        Self(serde_json::value::to_raw_value(&value).expect("a JSON value serialises"))
    }
}

impl PartialEq for EventData {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// Declares a job type: the NetBox change it tells of (the same fields in a waiting and a held
/// job, so both store and attribute alike), then its own fields.
macro_rules! job_of_netbox_change {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// `<object_type>:<object id>`; events with the same key coalesce and run in order.
            pub key: String,
            pub object_type: String,
            pub object_id: i64,
            /// `created`, `updated` or `deleted`.
            pub event: String,
            /// NetBox's `request.id`, carried into every log line about the job.
            pub request_id: Option<String>,
            /// NetBox's `request.user`.
            pub user: Option<String>,
            /// NetBox's `timestamp`, exactly as sent.
            pub timestamp: String,
            /// The webhook's `data` (the object as NetBox's REST API shows it).
            pub data: EventData,
            /// `data.custom_fields.hedgehog_fabric`, when the object names its fabric.
            pub fabric: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            /// The NetBox change that made the job, for attribution; `None` for an object id
            /// NetBox never uses.
            pub fn netbox_change(&self) -> Option<NetBoxChange> {
                NetBoxChange::new(
                    &self.object_type,
                    self.object_id,
                    self.request_id.as_deref(),
                    self.user.as_deref(),
                    &self.timestamp,
                )
            }
        }
    };
}

job_of_netbox_change! {
    /// What intake hands to the queue: everything about the event, nothing about its processing.
    /// This is also what the back-ends store; coalescing replaces it with a newer one.
    pub struct NewJob {
        /// Recognises identical redeliveries (there is no delivery id header).
        pub dedupe_key: String,
    }
}

#[cfg(test)]
impl NewJob {
    /// For tests: an update of NetBox device `object_id`, of no fabric.
    pub(crate) fn device_update(object_id: i64) -> Self {
        NewJob {
            key: format!("dcim.device:{object_id}"),
            object_type: "dcim.device".into(),
            object_id,
            event: "updated".into(),
            request_id: None,
            user: None,
            timestamp: format!("t{object_id}"),
            data: serde_json::json!({"id": object_id}).into(),
            fabric: None,
            dedupe_key: format!("d{object_id}"),
        }
    }
}

job_of_netbox_change! {
    /// A job as a worker sees it.
    pub struct Job {
        pub id: String,
        /// Attempts started so far, this one included.
        pub attempts: u32,
        /// The error of the previous failed attempt.
        pub last_error: Option<String>,
    }
}

impl Job {
    /// The job as `jobs show` and `GET /api/v1/jobs/{id}` show it: every field and its state.
    pub fn shown(&self, state: JobState) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["state"] = serde_json::Value::from(state.as_str());
        value
    }

    pub(crate) fn from_parts(
        id: String,
        new: NewJob,
        attempts: u32,
        last_error: Option<String>,
    ) -> Self {
        Self {
            id,
            key: new.key,
            object_type: new.object_type,
            object_id: new.object_id,
            event: new.event,
            request_id: new.request_id,
            user: new.user,
            timestamp: new.timestamp,
            data: new.data,
            fabric: new.fabric,
            attempts,
            last_error,
        }
    }
}

/// A job as lists show it: what it is about and how it fared, without its event data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: String,
    pub key: String,
    pub event: String,
    pub attempts: u32,
    pub request_id: Option<String>,
    pub user: Option<String>,
    pub fabric: Option<String>,
    pub last_error: Option<String>,
}

impl From<&Job> for JobSummary {
    fn from(job: &Job) -> Self {
        Self {
            id: job.id.clone(),
            key: job.key.clone(),
            event: job.event.clone(),
            attempts: job.attempts,
            request_id: job.request_id.clone(),
            user: job.user.clone(),
            fabric: job.fabric.clone(),
            last_error: job.last_error.clone(),
        }
    }
}

/// A fresh job id.
pub(crate) fn new_job_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Held by a worker.
    Running,
    /// Failed, waiting for its next attempt.
    Retrying,
    /// Gave up; kept with its last error until retried or dropped.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Dead => "dead",
        }
    }
}
