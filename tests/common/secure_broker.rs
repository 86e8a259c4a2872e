//! A Kafka broker that requires SASL/SCRAM over TLS, the way ApsaraMQ's
//! internet endpoints do (SASL_SSL), built from real servers on 127.0.0.1:
//!
//! * tansu 0.6.0 with its sqlite engine (`.venv/bin/tansu-sqlite`, built by
//!   `scripts/setup.sh`) checks SCRAM-SHA-512/256 logins. It only accepts
//!   logins of users stored before it started with `--authentication`, so
//!   it is started twice on one database: first open, to create the user
//!   with `tansu user create`, then with `--authentication`. (The wheel's
//!   build has only the memory engine, which stores no SCRAM credentials,
//!   and tansu 0.6 does not use its `--cert`: it never starts TLS.)
//! * stunnel terminates TLS in front of it with a certificate for
//!   127.0.0.1 and localhost, signed by a CA made for this broker; the
//!   broker advertises the TLS port, so every client connection is TLS.
//!
//! Certificates come from the openssl CLI. Everything lives in the given
//! directory; both servers are killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Message};

use super::broker::free_port;

/// The SCRAM user the broker knows.
pub const USER: &str = "sink-user";
/// Its password: tests look for this text in everything the sink prints.
pub const PASSWORD: &str = "Scram-Pw-7f3kQ9";

/// A tool from `scripts/setup.sh`, or a failure that says to run it.
fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("{name} not found on PATH: run scripts/setup.sh (it installs stunnel4 and openssl for the TLS tests)"))
}

/// tansu with a persistent engine; `TANSU_SQLITE_BIN` overrides.
fn tansu_sqlite() -> PathBuf {
    let p = std::env::var_os("TANSU_SQLITE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo().join(".venv/bin/tansu-sqlite"));
    assert!(
        p.exists(),
        "{} not found: run scripts/setup.sh (it builds tansu 0.6.0 with its sqlite engine, which keeps SCRAM users)",
        p.display()
    );
    p
}

fn run(dir: &Path, program: &Path, args: &[&str]) {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the tool runs");
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`{name}-ca.pem`), and with `server`, a certificate for
/// 127.0.0.1/localhost signed by it (`server.pem`, `server.key`).
fn make_certificates(dir: &Path, name: &str, server: bool) {
    let openssl = tool("openssl");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca_key = format!("{name}-ca.key");
    let ca = format!("{name}-ca.pem");
    let subject = format!("/CN={name} test CA");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout", &ca_key, "-out", &ca, "-days", "2", "-subj", &subject,
    ]);
    run(dir, &openssl, &args);
    if !server {
        return;
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(dir, &openssl, &args);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(
        dir,
        &openssl,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not open port {port} in 15 s: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

pub struct SecureBroker {
    tansu: Option<Child>,
    stunnel: Option<Child>,
    /// The TLS port: the only address clients use.
    pub port: u16,
    /// The CA that signed the broker's certificate.
    pub ca: PathBuf,
    /// A CA that did not.
    pub other_ca: PathBuf,
}

impl SecureBroker {
    pub fn start(dir: &Path) -> SecureBroker {
        std::fs::create_dir_all(dir.join("store")).unwrap();
        let (tansu, stunnel) = (tansu_sqlite(), tool("stunnel4"));
        make_certificates(dir, "broker", true);
        make_certificates(dir, "other", false);
        let (inner, port) = (free_port(), free_port());
        let listener = format!("tcp://127.0.0.1:{inner}");
        let advertised = format!("tcp://127.0.0.1:{port}");
        let log = dir.join("tansu.log");
        let broker = |authentication: bool| {
            let mut args = vec![
                "broker",
                "--listener-url",
                &listener,
                "--advertised-listener-url",
                &advertised,
                // Relative to the working directory (tansu's rule).
                "--storage-engine",
                "sqlite://store/tansu.db",
            ];
            if authentication {
                args.push("--authentication");
            }
            let child = Command::new(&tansu)
                .current_dir(dir)
                .args(&args)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("tansu starts");
            wait_for_port(inner, "tansu", &log);
            child
        };
        // Users are created on an open broker, then required.
        let open = broker(false);
        for mechanism in ["scram512", "scram256"] {
            run(
                dir,
                &tansu,
                &[
                    "user",
                    "create",
                    "--broker",
                    &listener,
                    "--mechanism",
                    mechanism,
                    USER,
                    PASSWORD,
                ],
            );
        }
        stop(open);
        let guarded = broker(true);
        let conf = dir.join("stunnel.conf");
        std::fs::write(
            &conf,
            format!(
                "foreground = yes\npid =\ndebug = warning\n[kafka]\naccept = 127.0.0.1:{port}\n\
                 connect = 127.0.0.1:{inner}\ncert = {}\nkey = {}\n",
                dir.join("server.pem").display(),
                dir.join("server.key").display()
            ),
        )
        .unwrap();
        let stunnel_log = dir.join("stunnel.log");
        let tls = Command::new(stunnel)
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stunnel_log).unwrap())
            .spawn()
            .expect("stunnel starts");
        wait_for_port(port, "stunnel", &stunnel_log);
        SecureBroker {
            tansu: Some(guarded),
            stunnel: Some(tls),
            port,
            ca: dir.join("broker-ca.pem"),
            other_ca: dir.join("other-ca.pem"),
        }
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `[kafka.client]` lines for SASL_SSL with `password` and `ca`.
    pub fn client_toml(&self, password: &str, ca: &Path) -> String {
        format!(
            "\"security.protocol\" = \"SASL_SSL\"\n\"sasl.mechanism\" = \"SCRAM-SHA-512\"\n\
             \"sasl.username\" = \"{USER}\"\n\"sasl.password\" = \"{password}\"\n\
             \"ssl.ca.location\" = \"{}\"\n",
            ca.display()
        )
    }

    /// A client config with the right credentials.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.bootstrap())
            .set("broker.address.family", "v4")
            .set("security.protocol", "SASL_SSL")
            .set("sasl.mechanism", "SCRAM-SHA-512")
            .set("sasl.username", USER)
            .set("sasl.password", PASSWORD)
            .set("ssl.ca.location", self.ca.display().to_string());
        c
    }

    /// Every record of `topic` (partitions read from the start until
    /// `timeout` passes without `expected` records).
    pub fn read_all(&self, topic: &str, expected: usize, timeout: Duration) -> Vec<OwnedMessage> {
        super::broker::read_all_with(self.client_config(), topic, expected, timeout)
    }

    /// Payload text of a record.
    pub fn text(m: &OwnedMessage) -> String {
        String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()
    }
}

impl Drop for SecureBroker {
    fn drop(&mut self) {
        for child in [self.stunnel.take(), self.tansu.take()]
            .into_iter()
            .flatten()
        {
            stop(child);
        }
    }
}
