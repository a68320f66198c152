//! Progress on long operations: `snapshot`, `allocate`, `import` and `reconcile` draw a spinner on standard error when
//! it is a terminal (run under a pseudo-terminal by `script`), and write no spinner and no
//! control codes when it is a pipe. NetBox is a local port that accepts connections and answers
//! nothing for a while, so the commands spend that time loading and then fail.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const SCRIPT: &str = "/usr/bin/script";
/// How long the silent NetBox holds each connection before closing it.
const SILENCE: Duration = Duration::from_millis(1500);

/// A NetBox that takes connections and closes each after [`SILENCE`] without a word.
fn silent_netbox() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(SILENCE));
                let mut sink = [0u8; 4096];
                let started = std::time::Instant::now();
                while started.elapsed() < SILENCE {
                    if matches!(stream.read(&mut sink), Ok(0)) {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A configuration with fabric `lab` in commit mode (its pools hhfab's defaults, no cluster to
/// read them from) and NetBox at `netbox`.
fn config(dir: &Path, netbox: &str) -> std::path::PathBuf {
    let config = dir.join("sidecar.toml");
    std::fs::write(
        &config,
        format!(
            "[netbox]\nurl = \"{netbox}\"\ntoken = \"t\"\nmax_retries = 0\n\n\
             [[fabric]]\nname = \"lab\"\nmode = \"commit\"\n\n\
             [fabric.git]\nurl = \"file:///nonexistent\"\n"
        ),
    )
    .unwrap();
    config
}

/// The command line `hedgehog-sidecar --config CONFIG args`, as words.
fn words(config: &Path, args: &[&str]) -> Vec<String> {
    let mut words = vec![
        env!("CARGO_BIN_EXE_hedgehog-sidecar").to_owned(),
        "--config".to_owned(),
        config.display().to_string(),
    ];
    words.extend(args.iter().map(|a| (*a).to_owned()));
    words
}

/// Runs `words` with standard error a pipe; what it printed there.
fn piped(words: &[String]) -> Output {
    Command::new(&words[0])
        .args(&words[1..])
        .env_clear()
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs")
}

/// Runs `words` on a pseudo-terminal (`script`); everything the terminal showed.
fn on_a_terminal(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let output = Command::new(SCRIPT)
        .args(["-qfec", &quoted.join(" "), "/dev/null"])
        .env_clear()
        .env("TERM", "xterm")
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn long_operations_show_a_spinner_on_a_terminal_and_nothing_in_a_pipe() {
    if !Path::new(SCRIPT).exists() {
        eprintln!("skipped: {SCRIPT} is not installed (util-linux)");
        return;
    }
    let netbox = silent_netbox();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &netbox);
    let wiring = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import-all-kinds.yaml");
    let wiring = wiring.to_str().expect("a UTF-8 path");
    let cases: [(&[&str], &str); 4] = [
        (
            &["snapshot", "--fabric", "lab"],
            "loading fabric lab from NetBox (",
        ),
        (
            &["allocate", "--fabric", "lab"],
            "allocating for fabric lab (",
        ),
        (
            &["import", "--fabric", "lab", "--dry-run", "--from", wiring],
            "importing fabric lab (",
        ),
        (
            &["reconcile", "--fabric", "lab", "--dry-run"],
            "reconciling fabric lab (",
        ),
    ];
    for (args, spinner) in cases {
        let words = words(&config, args);

        let terminal = on_a_terminal(&words);
        assert!(
            terminal.contains(spinner),
            "{args:?}: the terminal shows `{spinner}<elapsed>)`:\n{terminal:?}"
        );
        assert!(
            terminal.contains("\u{1b}[2K"),
            "{args:?}: the spinner redraws its line in place:\n{terminal:?}"
        );

        let output = piped(&words);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(&netbox["http://".len()..]),
            "{args:?}: the run reached the silent NetBox and failed on it:\n{stderr}"
        );
        assert!(
            !stderr.contains(spinner),
            "{args:?}: no spinner in a pipe:\n{stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}') && !stderr.contains('\r'),
            "{args:?}: no control codes in a pipe:\n{stderr:?}"
        );
    }
}
