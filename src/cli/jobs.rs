//! `hedgehog-sidecar jobs`: inspect the queues and re-queue dead letters. It asks the running
//! sidecar's `/api/v1/jobs` (the embedded queue's file is locked while `serve` runs); with
//! `--offline` it opens the queue itself, for when `serve` is stopped.

use std::io::Write;

use serde_json::Value;

use super::api_client::SidecarApi;
use crate::config::Settings;
use crate::queue::{JobQueue, JobState, JobSummary, QueueStats, open_queue};

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    /// The running sidecar's base URL; by default the configured `listen` address (on
    /// loopback when it listens on every address). The token is `api.token`.
    #[arg(long, global = true, conflicts_with = "offline")]
    pub url: Option<String>,
    /// Open the queue directly instead of asking the running sidecar (only while `serve` is
    /// stopped: the embedded queue's file is locked while it runs).
    #[arg(long, global = true)]
    pub offline: bool,
    #[command(subcommand)]
    pub command: JobsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Count jobs per state and list those in one state, oldest first.
    List {
        #[arg(long, value_enum, default_value = "dead")]
        state: JobState,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Print one job (its event data and last error) as JSON.
    Show { id: String },
    /// Move a dead job back to the queue with its attempts reset.
    Retry { id: String },
    /// Delete a dead job.
    Drop { id: String },
}

pub async fn run(settings: Settings, args: JobsArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let written = if args.offline {
        let queue = open_queue(&settings)?;
        write_offline(queue.as_ref(), args.command, &mut out).await
    } else {
        let api = SidecarApi::from_settings(&settings, args.url)?;
        write_remote(&api, args.command, &mut out).await
    };
    match written.and_then(|()| Ok(out.flush()?)) {
        // The reader went away (`jobs list | head`): it has all it wanted.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Through the running sidecar's API.
async fn write_remote(
    api: &SidecarApi,
    command: JobsCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        JobsCommand::List { state, limit } => {
            let body = api
                .get(&format!(
                    "/api/v1/jobs?state={}&limit={limit}",
                    state.as_str()
                ))
                .await?;
            let stats: QueueStats = serde_json::from_value(body["counts"].clone())?;
            let jobs: Vec<JobSummary> = serde_json::from_value(body["jobs"].clone())?;
            write_list(out, &stats, state, &jobs)?;
        }
        JobsCommand::Show { id } => {
            let job = api
                .get(&format!("/api/v1/jobs/{}", path_segment(&id)))
                .await?;
            write_job(out, &job)?;
        }
        JobsCommand::Retry { id } => {
            api.post(&format!("/api/v1/jobs/{}/retry", path_segment(&id)))
                .await?;
            writeln!(out, "job {id} queued again")?;
        }
        JobsCommand::Drop { id } => {
            api.post(&format!("/api/v1/jobs/{}/drop", path_segment(&id)))
                .await?;
            writeln!(out, "job {id} dropped")?;
        }
    }
    Ok(())
}

/// On the queue itself.
async fn write_offline(
    queue: &dyn JobQueue,
    command: JobsCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        JobsCommand::List { state, limit } => {
            let stats = queue.stats().await?;
            let jobs: Vec<JobSummary> = queue
                .list(state, limit)
                .await?
                .iter()
                .map(JobSummary::from)
                .collect();
            write_list(out, &stats, state, &jobs)?;
        }
        JobsCommand::Show { id } => match queue.show(&id).await? {
            Some((state, job)) => write_job(out, &job.shown(state))?,
            None => anyhow::bail!("no job {id}"),
        },
        JobsCommand::Retry { id } => {
            anyhow::ensure!(
                queue.retry_dead(&id).await?,
                "job {id} is not in the dead-letter queue"
            );
            writeln!(out, "job {id} queued again")?;
        }
        JobsCommand::Drop { id } => {
            anyhow::ensure!(
                queue.drop_dead(&id).await?,
                "job {id} is not in the dead-letter queue"
            );
            writeln!(out, "job {id} dropped")?;
        }
    }
    Ok(())
}

fn write_list(
    out: &mut impl Write,
    stats: &QueueStats,
    state: JobState,
    jobs: &[JobSummary],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "queued {}  running {}  retrying {}  dead {}",
        stats.queued, stats.running, stats.retrying, stats.dead
    )?;
    for job in jobs {
        writeln!(
            out,
            "{}  {}  {:<8} {:<28} attempts={} request_id={} {}",
            job.id,
            state.as_str(),
            job.event,
            job.key,
            job.attempts,
            job.request_id.as_deref().unwrap_or("-"),
            job.last_error
                .as_deref()
                .map(|e| format!("last_error={e}"))
                .unwrap_or_default(),
        )?;
    }
    Ok(())
}

fn write_job(out: &mut impl Write, job: &Value) -> anyhow::Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(job)?)?;
    Ok(())
}

/// A job id as one URL path segment (ids are UUIDs or stream ids; anything else is escaped).
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
