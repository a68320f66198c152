//! `hedgehog-sidecar jobs`: inspect the queues and re-queue dead letters.
//! With the embedded queue, run it while `serve` is stopped (the file is locked while open).

use std::io::Write;

use crate::config::Settings;
use crate::queue::{JobState, open_queue};

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
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
    match write_output(settings, args, &mut out).await {
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

async fn write_output(
    settings: Settings,
    args: JobsArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let queue = open_queue(&settings)?;
    match args.command {
        JobsCommand::List { state, limit } => {
            let stats = queue.stats().await?;
            writeln!(
                out,
                "queued {}  running {}  retrying {}  dead {}",
                stats.queued, stats.running, stats.retrying, stats.dead
            )?;
            for job in queue.list(state, limit).await? {
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
        }
        JobsCommand::Show { id } => match queue.show(&id).await? {
            Some((state, job)) => {
                let mut value = serde_json::to_value(&job)?;
                value["state"] = serde_json::Value::from(state.as_str());
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            }
            None => anyhow::bail!("no job {id}"),
        },
        JobsCommand::Retry { id } => {
            if !queue.retry_dead(&id).await? {
                anyhow::bail!("job {id} is not in the dead-letter queue");
            }
            writeln!(out, "job {id} queued again")?;
        }
        JobsCommand::Drop { id } => {
            if !queue.drop_dead(&id).await? {
                anyhow::bail!("job {id} is not in the dead-letter queue");
            }
            writeln!(out, "job {id} dropped")?;
        }
    }
    out.flush()?;
    Ok(())
}
