//! `hedgehog-sidecar allocate --fabric NAME [--dry-run]`: allocates, for a whole fabric, what
//! a running fabric needs and NetBox lacks (e.g. after importing a wiring file hhfab never
//! hydrated), releases what deleted switches and cables held, and prints the plan and what was
//! set. A second run allocates nothing.

use anyhow::Context;

use super::output::OutputFormat;
use super::progress::with_spinner;
use crate::allocation::{AllocatorLease, allocate_fabric};
use crate::config::Settings;
use crate::fabric_env::FabricEnvSource;
use crate::netbox::NetBoxClient;

#[derive(Debug, clap::Args)]
pub struct AllocateArgs {
    /// The fabric to allocate for (a `[[fabric]]` name from the configuration).
    #[arg(long)]
    pub fabric: String,
    /// Print the plan only; nothing is written into NetBox.
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the plan and what was allocated and released.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: OutputFormat,
}

pub async fn run(settings: Settings, args: AllocateArgs) -> anyhow::Result<()> {
    let fabric = settings
        .fabric(&args.fabric)
        .with_context(|| format!("no fabric named {:?} in the configuration", args.fabric))?;
    // The pools are the fabric's own configuration: its cluster's in apply mode.
    let environment = FabricEnvSource::connect(fabric).await?;
    let fabric = environment.resolve(fabric).await?;
    let client = NetBoxClient::from_settings(&settings.netbox)?;
    // The serving replicas' lease, so this pass never runs alongside theirs.
    let redis = crate::pipeline::redis_pool(&settings)?;
    let lease = AllocatorLease::for_replicas(redis, &settings.queue.key_prefix);
    let allocating = allocate_fabric(&client, &fabric, &lease, args.dry_run);
    let report = with_spinner(format!("allocating for fabric {}", fabric.name), allocating).await?;
    args.output.print(&report, || format!("{report}\n"))?;
    if !report.plan.problems.is_empty() {
        anyhow::bail!(
            "{} values break the fabric's rules (listed above); they are not replaced",
            report.plan.problems.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::{Allocated, AllocationReport, Released};

    fn report() -> AllocationReport {
        AllocationReport {
            allocated: vec![Allocated {
                object_type: "dcim.device",
                id: 7,
                name: "leaf-03".into(),
                value: "ASN 65103".into(),
            }],
            released: vec![Released {
                object_type: "ipam.asn",
                id: 9,
                value: "ASN 65102".into(),
            }],
            ..AllocationReport::default()
        }
    }

    #[test]
    fn the_report_prints_as_json_and_yaml_with_what_was_allocated_and_released() {
        let report = report();
        let json = OutputFormat::Json.render(&report, String::new).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["allocated"][0]["name"], "leaf-03");
        assert_eq!(value["allocated"][0]["value"], "ASN 65103");
        assert_eq!(value["released"][0]["value"], "ASN 65102");
        assert!(value["plan"]["switches"].as_array().unwrap().is_empty());
        let yaml = OutputFormat::Yaml.render(&report, String::new).unwrap();
        assert!(yaml.contains("value: ASN 65103"), "{yaml}");
    }

    #[test]
    fn the_text_is_the_reports_own_lines() {
        let report = report();
        let text = OutputFormat::Text
            .render(&report, || format!("{report}\n"))
            .unwrap();
        assert!(
            text.contains("allocated: dcim.device leaf-03: ASN 65103"),
            "{text}"
        );
        assert!(text.ends_with("1 values allocated, 1 released\n"), "{text}");
    }
}
