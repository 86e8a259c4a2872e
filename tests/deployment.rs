//! The deployment examples in `config/`: the Kubernetes manifests (read
//! with a YAML parser) validate and probe the endpoints the sink serves,
//! the systemd unit is consistent, and `config/Dockerfile` builds the
//! binary from exactly what it copies into an image whose runtime stage
//! provides every library the binary needs (docker cannot run here, so
//! the build stage's command runs on this machine, in a context holding
//! only the copied files).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every document of config/kubernetes.yaml, by kind.
fn manifests() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(&read("config/kubernetes.yaml"))
        .map(|doc| Value::deserialize(doc).expect("config/kubernetes.yaml is valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn manifest<'a>(all: &'a [Value], kind: &str) -> &'a Value {
    all.iter()
        .find(|m| m["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in config/kubernetes.yaml"))
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v:?}"))
}

/// The ConfigMap's config.toml validates like the files in config/, every
/// variable it references comes from the Deployment's env (from the
/// Secret), the grace period outlasts the shutdown, and the probes use
/// the sink's /healthz and /readyz on the metrics port.
#[test]
fn kubernetes_example_validates_and_probes_the_sink() {
    let all = manifests();
    let deployment = manifest(&all, "Deployment");
    let secret = manifest(&all, "Secret");
    let mut toml = str_of(
        &manifest(&all, "ConfigMap")["data"]["config.toml"],
        "config.toml",
    )
    .to_owned();
    let spec = &deployment["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let env = container["env"].as_sequence().expect("env");

    // ${NAME}s: each set from the Secret. Replaced here rather than set in
    // the environment (tests run in parallel).
    let mut vars = Vec::new();
    while let Some(at) = toml.find("${") {
        let end = at + toml[at..].find('}').expect("closing brace");
        let name = toml[at + 2..end].to_string();
        toml.replace_range(at..=end, &format!("dummy-{}", name.to_ascii_lowercase()));
        vars.push(name);
    }
    assert!(
        vars.len() >= 3,
        "secrets come from the environment: {vars:?}"
    );
    for name in &vars {
        let entry = env
            .iter()
            .find(|e| e["name"] == name.as_str())
            .unwrap_or_else(|| panic!("${{{name}}} has no env entry in the Deployment"));
        let from = &entry["valueFrom"]["secretKeyRef"];
        assert_eq!(from["name"], secret["metadata"]["name"], "{name}");
        assert!(
            secret["stringData"][str_of(&from["key"], "key")].is_string(),
            "{name}: the Secret has no such key"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &toml).expect("writing the config");
    let config = tablestore_sink::config::load(&file)
        .unwrap_or_else(|e| panic!("the ConfigMap's config.toml: {e}\n{toml}"));
    assert!(config.tablestore.endpoint.starts_with("https://"));
    let metrics_port = config.metrics.listen.map(|a| a.port());
    assert_eq!(metrics_port, Some(9464));

    assert!(
        deployment["spec"]["replicas"].as_u64() > Some(1),
        "several replicas in one group"
    );
    let port = &container["ports"][0];
    assert_eq!(
        port["containerPort"].as_u64().map(|p| p as u16),
        metrics_port
    );
    let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], "9464");
    for (probe, path) in [
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert!(
            get["port"] == port["name"] || get["port"] == port["containerPort"],
            "{probe}"
        );
    }
    // Drain, then the producer flush (10 s) at shutdown.
    let shutdown_s = u64::from(config.kafka.drain_timeout_ms()).div_ceil(1000) + 10;
    assert!(
        spec["terminationGracePeriodSeconds"].as_u64() > Some(shutdown_s),
        "terminationGracePeriodSeconds must exceed {shutdown_s} s"
    );
    // The image is the Dockerfile's: its binary path and user.
    let docker = dockerfile();
    assert_eq!(container["command"][0], "/usr/local/bin/tablestore-sink");
    assert!(docker
        .runtime_entrypoint
        .contains("/usr/local/bin/tablestore-sink"));
    assert_eq!(
        spec["securityContext"]["runAsUser"]
            .as_u64()
            .map(|u| u.to_string()),
        docker.runtime_user.split(':').next().map(String::from)
    );
}

/// The systemd unit runs the sink with secrets from an EnvironmentFile and
/// waits for the drain at stop.
#[test]
fn systemd_unit_is_consistent() {
    let unit = read("config/tablestore-sink.service");
    let value = |key: &str| -> &str {
        unit.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {key}= in the unit"))
    };
    assert!(value("ExecStart").ends_with(" run --config /etc/tablestore-sink/config.toml"));
    assert!(value("EnvironmentFile").starts_with('/'));
    assert_eq!(value("Restart"), "on-failure");
    assert_eq!(value("KillSignal"), "SIGTERM");
    let stop_s: u64 = value("TimeoutStopSec")
        .trim_end_matches('s')
        .parse()
        .expect("TimeoutStopSec in seconds");
    // Covers the default drain timeout (5 s) plus the producer flush (10 s)
    // with room for drain_timeout_ms up to 30 s.
    assert!(stop_s >= 30 + 10, "TimeoutStopSec={stop_s}");
    for key in ["NoNewPrivileges", "ProtectSystem", "PrivateTmp"] {
        value(key);
    }
}

/// What the test needs from config/Dockerfile.
struct Dockerfile {
    /// `FROM` images, by stage.
    stages: Vec<String>,
    /// `COPY` sources of the build stage.
    build_copies: Vec<String>,
    /// The build stage's `RUN` commands.
    build_runs: Vec<String>,
    /// The runtime stage's `RUN` commands, `COPY --from`, `USER`,
    /// `ENTRYPOINT`.
    runtime_runs: Vec<String>,
    runtime_copy_from: String,
    runtime_user: String,
    runtime_entrypoint: String,
}

/// Reads the instructions (with `\` continuations) of config/Dockerfile.
fn dockerfile() -> Dockerfile {
    let text = read("config/Dockerfile");
    let mut instructions: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(t);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    let mut d = Dockerfile {
        stages: Vec::new(),
        build_copies: Vec::new(),
        build_runs: Vec::new(),
        runtime_runs: Vec::new(),
        runtime_copy_from: String::new(),
        runtime_user: String::new(),
        runtime_entrypoint: String::new(),
    };
    for ins in instructions {
        let (op, rest) = ins.split_once(' ').unwrap_or((&ins, ""));
        let rest = rest.trim().to_owned();
        let runtime = d.stages.len() == 2;
        match (op, runtime) {
            ("FROM", _) => d.stages.push(rest),
            ("COPY", false) => {
                let parts: Vec<&str> = rest.split_whitespace().collect();
                d.build_copies
                    .extend(parts[..parts.len() - 1].iter().map(|s| s.to_string()));
            }
            ("RUN", false) => d.build_runs.push(rest),
            ("RUN", true) => d.runtime_runs.push(rest),
            ("COPY", true) => d.runtime_copy_from = rest,
            ("USER", true) => d.runtime_user = rest,
            ("ENTRYPOINT", true) => d.runtime_entrypoint = rest,
            _ => {}
        }
    }
    d
}

#[test]
fn dockerfile_builds_the_binary_from_what_it_copies_and_the_runtime_has_its_libraries() {
    let d = dockerfile();
    assert_eq!(d.stages.len(), 2, "build, then runtime: {:?}", d.stages);
    assert!(d.stages[0].starts_with("rust:") && d.stages[0].ends_with(" AS build"));
    assert!(
        d.stages[1].starts_with("debian:bookworm-slim"),
        "{:?}",
        d.stages
    );
    assert_eq!(
        d.runtime_copy_from,
        "--from=build /src/target/release/tablestore-sink /usr/local/bin/tablestore-sink"
    );
    assert_ne!(d.runtime_user, "", "the runtime runs unprivileged");
    let build = d
        .build_runs
        .iter()
        .find(|r| r.starts_with("cargo build"))
        .expect("the build stage runs cargo build");
    assert!(
        build.contains("--release") && build.contains("--locked"),
        "{build}"
    );

    // The context holds only what the build stage copies.
    let context = tempfile::tempdir().unwrap();
    for source in &d.build_copies {
        let status = Command::new("cp")
            .args(["-r", "--parents", source])
            .arg(context.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "COPY {source}: not in the repository");
    }
    // Built like the image does; the target directory is a cache kept
    // between runs (a docker layer cache would do the same).
    let out = Command::new("sh")
        .arg("-c")
        .arg(build)
        .current_dir(context.path())
        .env("CARGO_TARGET_DIR", path("target/dockerfile"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{build} in a context of {:?}:\n{}",
        d.build_copies,
        String::from_utf8_lossy(&out.stderr)
    );
    let binary = path("target/dockerfile/release/tablestore-sink");
    let version = Command::new(&binary).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("tablestore-sink "));

    // Every shared library it links is in a package the runtime stage
    // installs (or the base image has: libc, libgcc).
    let installed = d.runtime_runs.join(" ");
    let ldd = Command::new("ldd").arg(&binary).output().unwrap();
    let libs: Vec<String> = String::from_utf8_lossy(&ldd.stdout)
        .lines()
        .filter_map(|l| l.split("=>").nth(1))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(libs.len() >= 3, "{libs:?}");
    for lib in libs {
        let owner = Command::new("dpkg").args(["-S", &lib]).output().unwrap();
        let owner = String::from_utf8_lossy(&owner.stdout);
        let package = owner
            .split(':')
            .next()
            .unwrap_or_else(|| panic!("no package owns {lib}"))
            .to_owned();
        assert!(
            ["libc6", "libgcc-s1"].contains(&package.as_str()) || installed.contains(&package),
            "{lib} comes from {package}, which the runtime stage does not install: {installed}"
        );
    }
}
