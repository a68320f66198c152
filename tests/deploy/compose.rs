//! `deploy/netbox-docker/`: the override, dropped into a checkout of netbox-docker's shape,
//! passes `docker-compose config`; NetBox's web and worker processes get the scripts' variables
//! on top of their own; and the sidecar's resulting environment and configuration pass
//! `config check`, the NetBox scripts' `HEDGEHOG_SIDECAR_URL` included.

use std::path::Path;

use serde_json::Value;

use crate::binary;
use crate::tools;

/// The parts of netbox-docker's `docker-compose.yml` (3.x) the override relies on: the
/// services `netbox` (an anchor `netbox-worker` extends), `redis` with a health check and its
/// password in `env/redis.env`, env files under `env/`.
const NETBOX_DOCKER_COMPOSE: &str = r#"services:
  netbox: &netbox
    image: docker.io/netboxcommunity/netbox:v4.1-3.0.2
    depends_on: [postgres, redis, redis-cache]
    env_file: env/netbox.env
    user: "unit:root"
    volumes:
      - ./configuration:/etc/netbox/config:z,ro
  netbox-worker:
    <<: *netbox
    depends_on:
      netbox:
        condition: service_healthy
    command: [/opt/netbox/venv/bin/python, /opt/netbox/netbox/manage.py, rqworker]
  postgres:
    image: docker.io/postgres:16-alpine
    env_file: env/postgres.env
  redis:
    image: docker.io/valkey/valkey:8.0-alpine
    command: [sh, -c, "valkey-server --appendonly yes --requirepass $$REDIS_PASSWORD"]
    healthcheck:
      test: '[ $$(valkey-cli --pass "$${REDIS_PASSWORD}" ping) = ''PONG'' ]'
      interval: 1s
    env_file: env/redis.env
  redis-cache:
    image: docker.io/valkey/valkey:8.0-alpine
    env_file: env/redis-cache.env
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A netbox-docker checkout with the sidecar's files copied in, as its README says.
fn checkout(root: &Path) {
    let copied = [
        "docker-compose.override.yml",
        "env/hedgehog-sidecar.env",
        "hedgehog-sidecar/sidecar.toml",
    ]
    .map(|file| (file, tools::read(&format!("deploy/netbox-docker/{file}"))));
    let written = [
        ("docker-compose.yml", NETBOX_DOCKER_COMPOSE),
        ("env/netbox.env", "DB_HOST=postgres\nREDIS_HOST=redis\n"),
        ("env/postgres.env", "POSTGRES_DB=netbox\n"),
        ("env/redis.env", "REDIS_PASSWORD=H733Kdjndks81\n"),
        ("env/redis-cache.env", "REDIS_PASSWORD=t4Ph722q\n"),
        ("hedgehog-sidecar/secrets/webhook-secret", "s3cret\n"),
        ("hedgehog-sidecar/secrets/netbox-token", "nbt_abc.def\n"),
        (
            "hedgehog-sidecar/secrets/redis-url",
            "redis://:H733Kdjndks81@redis:6379/2\n",
        ),
        (
            "hedgehog-sidecar/kubeconfig",
            "apiVersion: v1\nkind: Config\n",
        ),
    ];
    let copied = copied.iter().map(|(file, text)| (*file, text.as_str()));
    for (file, text) in written.into_iter().chain(copied) {
        write(&root.join(file), text);
    }
}

fn environment(service: &Value) -> Vec<(String, String)> {
    service["environment"]
        .as_object()
        .map(|env| {
            env.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn var<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
#[ignore = "needs docker-compose"]
fn the_override_merges_into_netbox_docker_and_the_sidecar_passes_config_check() {
    let Some(compose) = tools::find("docker-compose", "pip install docker-compose") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    checkout(root.path());
    let output = std::process::Command::new(&compose)
        .arg("config")
        .current_dir(root.path())
        .output()
        .expect("docker-compose runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "docker-compose config: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged: Value = serde_yaml_ng::from_str(&text).expect("YAML");
    let services = &merged["services"];
    let sidecar = environment(&services["hedgehog-sidecar"]);
    for netbox in ["netbox", "netbox-worker"] {
        let env = environment(&services[netbox]);
        assert_eq!(
            var(&env, "DB_HOST"),
            Some("postgres"),
            "{netbox} keeps its own env"
        );
        assert_eq!(
            var(&env, "HEDGEHOG_SIDECAR_URL"),
            Some("http://hedgehog-sidecar:8080")
        );
        assert_eq!(
            var(&env, "HEDGEHOG_SIDECAR_API_TOKEN"),
            var(&sidecar, "HEDGEHOG_SIDECAR_API_TOKEN"),
            "{netbox}'s scripts send the token the sidecar requires"
        );
    }
    assert!(
        services["hedgehog-sidecar"]["depends_on"]["redis"].is_object(),
        "{}",
        services["hedgehog-sidecar"]
    );

    // The sidecar as the container sees it: its paths moved under the checkout.
    let here = root.path().join("hedgehog-sidecar");
    let relocate = |text: &str| {
        text.replace("/etc/hedgehog-sidecar", &here.display().to_string())
            .replace(
                "/run/secrets/hedgehog-",
                &here.join("secrets/").display().to_string(),
            )
    };
    let config = here.join("sidecar.toml");
    write(
        &config,
        &relocate(&std::fs::read_to_string(&config).unwrap()),
    );
    let env: Vec<(String, String)> = sidecar
        .iter()
        .map(|(name, value)| (name.clone(), relocate(value)))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let check = binary::run(&["config", "check"], &env);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{stdout}{check:?}");
    assert!(
        stdout.contains("queue: Redis") && stdout.contains("ok: fabric `lab`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("left alone: HEDGEHOG_SIDECAR_URL"),
        "the scripts' variable is not a setting: {stdout}"
    );
}
