//! The set-up the README's two commands do themselves (issue 11, item 1):
//! a missing system package stops `scripts/setup.sh` before anything is
//! built or installed, with the exact command to run, when not root; and
//! `.ci/run` does no set-up of its own. (`scripts/clean_clone_check.sh`,
//! the last step of `scripts/test.sh`, runs both commands from a clean
//! clone.)

mod common;

use std::process::Command;

/// A copy of `scripts/setup.sh` and `Cargo.toml` in a directory the
/// unprivileged user can read, with one more requirement that no machine
/// meets.
fn setup_with_missing_package() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    let script = std::fs::read_to_string(common::repo().join("scripts/setup.sh")).unwrap();
    assert!(script.contains("REQUIREMENTS=(\n"), "the list moved");
    let script = script.replace(
        "REQUIREMENTS=(\n",
        "REQUIREMENTS=(\n  \"all|no-such-package-for-the-test|false\"\n",
    );
    std::fs::write(dir.path().join("scripts/setup.sh"), script).unwrap();
    std::fs::copy(
        common::repo().join("Cargo.toml"),
        dir.path().join("Cargo.toml"),
    )
    .unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(dir.path())
        .status()
        .unwrap();
    dir
}

#[test]
fn a_missing_package_names_the_exact_command_before_anything_else() {
    let dir = setup_with_missing_package();
    // Unprivileged, as a developer would run it: as `nobody` (uid 65534)
    // when the tests run as root (CI).
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut setup = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "bash"]);
        c
    } else {
        Command::new("bash")
    };
    let out = setup
        .arg(dir.path().join("scripts/setup.sh"))
        .env("HOME", dir.path())
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("these system packages are missing: no-such-package-for-the-test")
            && stderr.contains(
                "    sudo apt-get install -y --no-install-recommends no-such-package-for-the-test"
            ),
        "{stderr}"
    );
    // Nothing after the check ran: no venv, no Rust install, no build.
    assert!(!dir.path().join(".venv").exists());
    assert!(!dir.path().join(".cargo").exists());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("setup: ready"));
}

#[test]
fn an_unknown_purpose_is_a_usage_error() {
    let out = Command::new("bash")
        .arg(common::repo().join("scripts/setup.sh"))
        .arg("everything")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use 'test' (default) or 'quickstart'"));
}

#[test]
fn ci_only_calls_the_test_command() {
    let ci = std::fs::read_to_string(common::repo().join(".ci/run")).unwrap();
    let commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        commands,
        [
            "set -euo pipefail",
            "cd \"$(dirname \"$0\")/..\"",
            "exec scripts/test.sh"
        ]
    );
    let test = std::fs::read_to_string(common::repo().join("scripts/test.sh")).unwrap();
    assert!(test.contains("scripts/setup.sh test"), "{test}");
    assert!(test.contains("scripts/clean_clone_check.sh"), "{test}");
    let quickstart = std::fs::read_to_string(common::repo().join("scripts/quickstart.sh")).unwrap();
    let setup_at = quickstart
        .find("scripts/setup.sh quickstart")
        .expect("quickstart sets up");
    let build_at = quickstart.find("cargo build").expect("quickstart builds");
    assert!(setup_at < build_at, "set-up comes before the build");
}
