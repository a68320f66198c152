//! `hedgehog-sidecar jobs`: inspect the queues and re-queue dead letters. It asks the running
//! sidecar's `/api/v1/jobs` (the embedded queue's file is locked while `serve` runs); with
//! `--offline` it opens the queue itself, for when `serve` is stopped.

use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};

use super::api_client::SidecarApi;
use super::output::OutputFormat;
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
    /// How to print jobs and lists (text: one line per job; a shown job is JSON either way).
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub output: OutputFormat,
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
    let mut out = Printer {
        out: std::io::stdout().lock(),
        format: args.output,
    };
    let written = if args.offline {
        let queue = open_queue(&settings)?;
        write_offline(queue.as_ref(), args.command, &mut out).await
    } else {
        let api = SidecarApi::from_settings(&settings, args.url)?;
        write_remote(&api, args.command, &mut out).await
    };
    let mut out = out.out;
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
    out: &mut Printer<impl Write>,
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
            out.list(&stats, state, &jobs)?;
        }
        JobsCommand::Show { id } => {
            let job = api
                .get(&format!("/api/v1/jobs/{}", path_segment(&id)))
                .await?;
            out.job(&job)?;
        }
        JobsCommand::Retry { id } => {
            api.post(&format!("/api/v1/jobs/{}/retry", path_segment(&id)))
                .await?;
            out.done(&id, "queued again")?;
        }
        JobsCommand::Drop { id } => {
            api.post(&format!("/api/v1/jobs/{}/drop", path_segment(&id)))
                .await?;
            out.done(&id, "dropped")?;
        }
    }
    Ok(())
}

/// On the queue itself.
async fn write_offline(
    queue: &dyn JobQueue,
    command: JobsCommand,
    out: &mut Printer<impl Write>,
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
            out.list(&stats, state, &jobs)?;
        }
        JobsCommand::Show { id } => match queue.show(&id).await? {
            Some((state, job)) => out.job(&job.shown(state))?,
            None => anyhow::bail!("no job {id}"),
        },
        JobsCommand::Retry { id } => {
            anyhow::ensure!(
                queue.retry_dead(&id).await?,
                "job {id} is not in the dead-letter queue"
            );
            out.done(&id, "queued again")?;
        }
        JobsCommand::Drop { id } => {
            anyhow::ensure!(
                queue.drop_dead(&id).await?,
                "job {id} is not in the dead-letter queue"
            );
            out.done(&id, "dropped")?;
        }
    }
    Ok(())
}

/// Prints what a jobs command made, in the chosen format.
struct Printer<W> {
    out: W,
    format: OutputFormat,
}

/// A list as `-o json|yaml` prints it.
#[derive(Serialize)]
struct JobList<'a> {
    counts: &'a QueueStats,
    state: JobState,
    jobs: &'a [JobSummary],
}

impl<W: Write> Printer<W> {
    fn list(
        &mut self,
        counts: &QueueStats,
        state: JobState,
        jobs: &[JobSummary],
    ) -> anyhow::Result<()> {
        let list = JobList {
            counts,
            state,
            jobs,
        };
        let text = self.format.render(&list, || list_text(&list))?;
        Ok(self.out.write_all(text.as_bytes())?)
    }

    fn job(&mut self, job: &Value) -> anyhow::Result<()> {
        let format = match self.format {
            OutputFormat::Text => OutputFormat::Json,
            other => other,
        };
        let text = format.render(job, String::new)?;
        Ok(self.out.write_all(text.as_bytes())?)
    }

    /// A retried or dropped job.
    fn done(&mut self, id: &str, what: &str) -> anyhow::Result<()> {
        let report = json!({"id": id, "result": what});
        let text = self
            .format
            .render(&report, || format!("job {id} {what}\n"))?;
        Ok(self.out.write_all(text.as_bytes())?)
    }
}

fn list_text(list: &JobList<'_>) -> String {
    let counts = list.counts;
    let mut text = format!(
        "queued {}  running {}  retrying {}  dead {}\n",
        counts.queued, counts.running, counts.retrying, counts.dead
    );
    for job in list.jobs {
        text += &format!(
            "{}  {}  {:<8} {:<28} attempts={} request_id={} {}\n",
            job.id,
            list.state.as_str(),
            job.event,
            job.key,
            job.attempts,
            job.request_id.as_deref().unwrap_or("-"),
            job.last_error
                .as_deref()
                .map(|e| format!("last_error={e}"))
                .unwrap_or_default(),
        );
    }
    text
}

/// A job id as one URL path segment (ids are UUIDs or stream ids; anything else is escaped).
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> JobSummary {
        JobSummary {
            id: "j-1".into(),
            key: "dcim.device:7".into(),
            event: "updated".into(),
            attempts: 3,
            request_id: Some("req-9".into()),
            user: Some("alice".into()),
            fabric: Some("lab".into()),
            last_error: Some("NetBox answered 500".into()),
        }
    }

    fn printed(format: OutputFormat, print: impl FnOnce(&mut Printer<Vec<u8>>)) -> String {
        let mut printer = Printer {
            out: Vec::new(),
            format,
        };
        print(&mut printer);
        String::from_utf8(printer.out).unwrap()
    }

    #[test]
    fn a_list_prints_as_lines_json_or_yaml() {
        let counts = QueueStats {
            dead: 1,
            ..QueueStats::default()
        };
        let jobs = [summary()];
        let list = |format| printed(format, |p| p.list(&counts, JobState::Dead, &jobs).unwrap());
        let text = list(OutputFormat::Text);
        assert!(
            text.starts_with("queued 0  running 0  retrying 0  dead 1\n"),
            "{text}"
        );
        assert!(text.contains("j-1  dead  updated  dcim.device:7"), "{text}");
        assert!(text.contains("last_error=NetBox answered 500"), "{text}");
        let json: Value = serde_json::from_str(&list(OutputFormat::Json)).unwrap();
        assert_eq!(json["counts"]["dead"], 1);
        assert_eq!(json["state"], "dead");
        assert_eq!(json["jobs"][0]["request_id"], "req-9");
        let yaml = list(OutputFormat::Yaml);
        assert!(
            yaml.contains("state: dead") && yaml.contains("id: j-1"),
            "{yaml}"
        );
    }

    #[test]
    fn a_retried_job_is_a_line_or_a_document() {
        let text = printed(OutputFormat::Text, |p| {
            p.done("j-1", "queued again").unwrap()
        });
        assert_eq!(text, "job j-1 queued again\n");
        let json = printed(OutputFormat::Json, |p| p.done("j-1", "dropped").unwrap());
        let json: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json, json!({"id": "j-1", "result": "dropped"}));
    }
}
