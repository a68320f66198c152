//! Exit codes a pipeline can gate on, as `kubectl diff` has them: 0 nothing differs, 1 the
//! target differs from NetBox, 2 the comparison could not be made (any other error).

use std::process::ExitCode;

/// The target differs from NetBox (exit 1).
pub const DIFFERS: u8 = 1;
/// An error: nothing could be claimed (exit 2).
pub const ERROR: u8 = 2;

/// An error ending the command with `code`; its message is printed unless empty.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl Exit {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The process's exit code for a command's result (any other error: 1), printing the error.
pub fn code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => match error.downcast_ref::<Exit>() {
            Some(exit) => {
                if !exit.message.is_empty() {
                    eprintln!("{}", exit.message);
                }
                ExitCode::from(exit.code)
            }
            None => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_keeps_its_code_and_other_errors_are_1() {
        assert_eq!(code(Ok(())), ExitCode::SUCCESS);
        let differs: anyhow::Result<()> = Err(Exit::new(DIFFERS, "").into());
        assert_eq!(code(differs), ExitCode::from(1));
        let error: anyhow::Result<()> = Err(Exit::new(ERROR, "unreadable").into());
        assert_eq!(code(error), ExitCode::from(2));
        assert_eq!(code(Err(anyhow::anyhow!("bad"))), ExitCode::FAILURE);
    }
}
