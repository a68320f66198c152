//! `hedgehog-sidecar jobs`: inspect the queues and re-queue dead letters.
//! With the embedded queue, run it while `serve` is stopped (the file is locked while open).

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
    let queue = open_queue(&settings)?;
    match args.command {
        JobsCommand::List { state, limit } => {
            let stats = queue.stats().await?;
            println!(
                "queued {}  running {}  retrying {}  dead {}",
                stats.queued, stats.running, stats.retrying, stats.dead
            );
            for job in queue.list(state, limit).await? {
                println!(
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
                );
            }
        }
        JobsCommand::Show { id } => match queue.show(&id).await? {
            Some((state, job)) => {
                let mut value = serde_json::to_value(&job)?;
                value["state"] = serde_json::Value::from(state.as_str());
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            None => anyhow::bail!("no job {id}"),
        },
        JobsCommand::Retry { id } => {
            if !queue.retry_dead(&id).await? {
                anyhow::bail!("job {id} is not in the dead-letter queue");
            }
            println!("job {id} queued again");
        }
        JobsCommand::Drop { id } => {
            if !queue.drop_dead(&id).await? {
                anyhow::bail!("job {id} is not in the dead-letter queue");
            }
            println!("job {id} dropped");
        }
    }
    Ok(())
}
