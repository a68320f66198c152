//! `deploy/hedgehog-sidecar.service`: sandboxed to an exposure of 2.5 or lower, with every
//! secret a systemd credential read through a `*_FILE` variable.

use crate::tools;

const UNIT: &str = "deploy/hedgehog-sidecar.service";

#[test]
#[ignore = "needs systemd-analyze"]
fn the_unit_is_rated_2_5_or_lower_by_systemd_analyze() {
    let Some(analyze) = tools::find("systemd-analyze", "apt-get install systemd") else {
        return;
    };
    let output = tools::run(&analyze, &["security", "--offline=yes", UNIT]);
    let text = String::from_utf8_lossy(&output.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for hedgehog-sidecar.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure in:\n{text}{output:?}"));
    assert!(exposure <= 2.5, "exposure {exposure}:\n{text}");
}

#[test]
fn every_secret_is_a_credential_read_from_its_file() {
    let unit = tools::read(UNIT);
    let settings: Vec<&str> = unit.lines().filter(|l| !l.starts_with('#')).collect();
    let credentials: Vec<&str> = settings
        .iter()
        .filter_map(|l| l.strip_prefix("LoadCredential="))
        .map(|c| c.split(':').next().unwrap())
        .collect();
    for secret in ["WEBHOOK_SECRET", "API_TOKEN", "NETBOX_TOKEN"] {
        let line = settings
            .iter()
            .find(|l| l.starts_with(&format!("Environment=HEDGEHOG_SIDECAR_{secret}_FILE=%d/")))
            .unwrap_or_else(|| panic!("{secret} is not read from a credential"));
        let id = line.rsplit('/').next().unwrap();
        assert!(
            credentials.contains(&id),
            "{id} is not loaded: {credentials:?}"
        );
        assert!(
            !settings
                .iter()
                .any(|l| l.starts_with(&format!("Environment=HEDGEHOG_SIDECAR_{secret}="))),
            "{secret} must not be inline"
        );
    }
}
