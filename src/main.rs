use clap::Parser;
use hedgehog_sidecar::cli::Cli;

/// mimalloc rather than glibc's allocator: the webhook path allocates many short-lived buffers
/// on several threads, where glibc's arenas spent a measurable share of the intake benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    hedgehog_sidecar::cli::exit::code(Cli::parse().run().await)
}
