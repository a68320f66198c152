//! Bodies intake accepts but that are awkward to decode (a lone surrogate escape, nesting
//! deeper than common JSON decoders allow) must not wedge their object: the job runs, retries
//! under its own object, releases it, and later jobs for the object run.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hedgehog_sidecar::queue::{Job, JobError, JobHandler};

use crate::support::{Backend, Storage, TestApp, both_backends, eventually};

both_backends!(awkward_bodies_retry_run_and_release_their_object);

/// Fails the first attempt of every job (so each goes through the retry path), then succeeds.
#[derive(Default)]
struct FailsOnce {
    failed: Mutex<HashSet<String>>,
    done: Mutex<Vec<Job>>,
}

impl FailsOnce {
    /// The versions (from the request id, `req-<id>-<version>`) of the object's finished jobs.
    fn done_versions(&self, object_id: i64) -> Vec<String> {
        let done = self.done.lock().unwrap();
        done.iter()
            .filter(|j| j.object_id == object_id)
            .filter_map(|j| {
                j.request_id
                    .as_deref()?
                    .rsplit('-')
                    .next()
                    .map(str::to_owned)
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl JobHandler for FailsOnce {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        if self.failed.lock().unwrap().insert(job.id.clone()) {
            return Err(JobError::retryable("first attempts fail"));
        }
        self.done.lock().unwrap().push(job.clone());
        Ok(())
    }
}

/// An event whose `data` carries `extra` as raw JSON text.
fn event_with(id: i64, version: u32, extra: &str) -> String {
    format!(
        r#"{{"event":"updated","timestamp":"2026-11-22T03:00:{version:02}+00:00",
        "object_type":"dcim.device","data":{{"id":{id},"version":{version},"extra":{extra},
        "custom_fields":{{"hedgehog_fabric":"lab"}}}},
        "request":{{"id":"req-{id}-{version}","user":"admin"}}}}"#
    )
}

fn deep(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

async fn awkward_bodies_retry_run_and_release_their_object(backend: Backend) {
    let storage = Storage::new(backend);
    let handler = Arc::new(FailsOnce::default());
    let app = TestApp::spawn(&storage.settings(), handler.clone()).await;
    let awkward = [
        (1, r#""\ud800""#.to_owned()),
        (2, deep(1500)),
        (3, r#""\udfff and \ud800\u0041""#.to_owned()),
    ];
    for (id, extra) in &awkward {
        let (status, json) = app.post_signed(&event_with(*id, 1, extra)).await;
        assert_eq!(status, 202, "object {id}: {json}");
    }
    eventually(
        Duration::from_secs(15),
        "every awkward job runs after its retry",
        || async {
            awkward
                .iter()
                .all(|(id, _)| handler.done_versions(*id) == ["1"])
        },
    )
    .await;
    // Later events for the same objects are not parked behind a lock nobody releases.
    for (id, _) in &awkward {
        let (status, _) = app.post_signed(&event_with(*id, 2, "null")).await;
        assert_eq!(status, 202);
    }
    eventually(
        Duration::from_secs(15),
        "later jobs for the same objects run",
        || async {
            awkward
                .iter()
                .all(|(id, _)| handler.done_versions(*id) == ["1", "2"])
        },
    )
    .await;
    let queue = app.queue.clone();
    eventually(Duration::from_secs(5), "nothing is left", || async {
        queue.stats().await.unwrap() == Default::default()
    })
    .await;
    app.stop().await;
}
