//! `hedgehog-sidecar completions bash|zsh|fish|elvish|powershell`: the shell's completion
//! script on standard output (`source <(hedgehog-sidecar completions bash)`).

use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    pub shell: Shell,
}

/// Writes the completion script of `shell` for the whole command line to `out`.
pub fn write(shell: Shell, out: &mut dyn std::io::Write) {
    let mut command = super::Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, out);
}

pub fn run(shell: Shell) -> anyhow::Result<()> {
    write(shell, &mut std::io::stdout());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_completes_the_subcommands_and_output_formats() {
        let mut script = Vec::new();
        write(Shell::Bash, &mut script);
        let script = String::from_utf8(script).unwrap();
        for word in ["reconcile", "diff", "completions", "--kubeconfig", "yaml"] {
            assert!(script.contains(word), "completes {word}");
        }
    }
}
