//! Can this process reach Kafka and log in? Asked once, before any
//! command that talks to Kafka (`run`, `send`, `status`, `load`) does
//! anything else.
//!
//! librdkafka treats a refused SASL login or a failed TLS handshake like a
//! broker that is away: it logs, reconnects, and lets requests wait for
//! their timeouts, so a wrong `sasl.password` or an untrusted certificate
//! would show up as a hang, or a bare timeout much later. This check
//! fetches metadata in short attempts and serves the client's error events
//! in between; an authentication or SSL error ends it at once with a
//! message naming the `[kafka.client]` setting to fix. A broker that does
//! not answer at all ends it after [`TIMEOUT`]. Messages never include
//! secret values: librdkafka's own text names the broker, never the
//! password.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer as _, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use crate::config::Config;

/// How long a broker that does not answer is given.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// One metadata attempt; errors are looked at between attempts.
const ATTEMPT: Duration = Duration::from_millis(500);
/// How long the queued events are served after each attempt.
const SERVE: Duration = Duration::from_millis(100);

/// Why Kafka cannot be used with this configuration.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("Kafka at {bootstrap} refused the SASL login of user {username:?} with mechanism {mechanism}: check kafka.client.\"sasl.password\" and kafka.client.\"sasl.username\" (and kafka.client.\"sasl.mechanism\": the broker must offer it); librdkafka: {detail}")]
    Authentication {
        bootstrap: String,
        username: String,
        mechanism: String,
        detail: String,
    },
    #[error("TLS with Kafka at {bootstrap} failed: the broker's certificate is not trusted (or does not name the host connected to): set kafka.client.\"ssl.ca.location\" to the PEM file of the CA that signed it (ApsaraMQ: the certificate from its console); librdkafka: {detail}")]
    Tls { bootstrap: String, detail: String },
    #[error("Kafka at {bootstrap} did not answer within {}s: check kafka.bootstrap_servers and kafka.client.\"security.protocol\"; last error: {detail}", TIMEOUT.as_secs())]
    Unreachable { bootstrap: String, detail: String },
    #[error("creating a Kafka client for {bootstrap}: {error}")]
    Client {
        bootstrap: String,
        error: KafkaError,
    },
}

/// Collects the client's error events (served by `poll`).
#[derive(Default)]
struct Watch {
    /// The first authentication or SSL error: the check's answer.
    fatal: Mutex<Option<(RDKafkaErrorCode, String)>>,
    /// The latest error of any kind, for a timeout's message.
    last: Mutex<Option<String>>,
}

impl ClientContext for Watch {
    fn error(&self, error: KafkaError, reason: &str) {
        // A certificate refused on a reconnect can come as a transport
        // error; its reason still says what happened.
        let code = match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::BrokerTransportFailure)
                if reason.contains("certificate verify failed") =>
            {
                Some(RDKafkaErrorCode::SSL)
            }
            code => code,
        };
        if let Some(code @ (RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)) = code {
            let mut fatal = self.fatal.lock().expect("not poisoned");
            fatal.get_or_insert((code, reason.to_owned()));
        }
        *self.last.lock().expect("not poisoned") = Some(format!("{error}: {reason}"));
    }
}

impl ProducerContext for Watch {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

fn setting<'a>(config: &'a Config, key: &str) -> Option<&'a str> {
    config
        .kafka
        .client
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Fetches metadata with `config`'s Kafka settings, waiting at most
/// [`TIMEOUT`]; blocking (call it from a blocking context).
pub fn check(config: &Config) -> Result<(), AccessError> {
    check_within(config, TIMEOUT)
}

/// [`check`] with another bound (tests).
pub fn check_within(config: &Config, timeout: Duration) -> Result<(), AccessError> {
    let bootstrap = config.kafka.bootstrap_servers.clone();
    let producer: BaseProducer<Watch> = super::base_client_config(
        config,
        &format!("tablestore-sink-{}-access", config.connector.name),
    )
    .create_with_context(Watch::default())
    .map_err(|error| AccessError::Client {
        bootstrap: bootstrap.clone(),
        error,
    })?;
    let deadline = Instant::now() + timeout;
    loop {
        let attempt = producer.client().fetch_metadata(None, ATTEMPT);
        // Serve the events queued meanwhile, all of them: librdkafka's log
        // lines share the queue with the errors (one poll serves one).
        producer.poll(SERVE);
        let watch = producer.context();
        if let Some((code, detail)) = watch.fatal.lock().expect("not poisoned").take() {
            return Err(match code {
                RDKafkaErrorCode::Authentication => AccessError::Authentication {
                    bootstrap,
                    username: setting(config, "sasl.username").unwrap_or("").to_owned(),
                    mechanism: setting(config, "sasl.mechanism")
                        .or_else(|| setting(config, "sasl.mechanisms"))
                        .unwrap_or("GSSAPI")
                        .to_owned(),
                    detail,
                },
                _ => AccessError::Tls { bootstrap, detail },
            });
        }
        match attempt {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                let detail = watch
                    .last
                    .lock()
                    .expect("not poisoned")
                    .take()
                    .unwrap_or_else(|| e.to_string());
                return Err(AccessError::Unreachable { bootstrap, detail });
            }
            Err(_) => {}
        }
    }
}

/// [`check`] from async code.
pub async fn check_async(config: &Config) -> Result<(), AccessError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || check(&config))
        .await
        .expect("the access check does not panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_that_is_not_there_times_out_with_the_bound_given() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config: Config = toml::from_str(include_str!("../../config/minimal.toml")).unwrap();
        config.kafka.bootstrap_servers = format!("127.0.0.1:{port}");
        let started = Instant::now();
        let e = check_within(&config, Duration::from_secs(2)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(6), "{e}");
        assert!(matches!(e, AccessError::Unreachable { .. }), "{e}");
        assert!(e.to_string().contains("kafka.bootstrap_servers"), "{e}");
    }
}
