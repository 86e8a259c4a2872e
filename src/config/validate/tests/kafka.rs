//! Rules of `[connector]`, `[kafka]` and `[kafka.client]`: names, servers,
//! topics, timeouts and librdkafka properties.

use super::*;

#[test]
fn connector_name_characters() {
    for (name, problem) in [
        ("", "the name is empty"),
        ("-sink", "the name starts with '-'"),
        ("Orders", "'O' is not allowed"),
        ("orders_sink", "'_' is not allowed"),
    ] {
        let e = error(&[("connector", &format!("name = \"{name}\""))]);
        assert!(
            e.starts_with(&format!("connector.name = \"{name}\": {problem}; use 1-48")),
            "{e}"
        );
    }
    ok(&[("connector", "name = \"0-a-\"")]);
}

#[test]
fn bootstrap_servers_are_host_port() {
    for bad in [
        "",
        " ",
        "broker",
        "broker:x",
        "broker:0",
        ":9092",
        "a:9092,,b:9092",
    ] {
        let (key, _) = key_value(&[("kafka", &format!("bootstrap_servers = \"{bad}\""))]);
        assert_eq!(key, "kafka.bootstrap_servers", "{bad}");
    }
    assert_eq!(
        error(&[("kafka", "bootstrap_servers = \"a:9092,b\"")]),
        "kafka.bootstrap_servers = \"a:9092,b\": \"b\" is not host:port; use a comma-separated \
         host:port list such as \"broker1:9092,broker2:9092\""
    );
    ok(&[(
        "kafka",
        "bootstrap_servers = \"[::1]:9092, localhost:9093\"",
    )]);
}

#[test]
fn topic_names() {
    assert_eq!(
        error(&[("kafka", "topic = \"my topic\"")]),
        "kafka.topic = \"my topic\": ' ' is not allowed; a Kafka topic name is 1-249 \
         characters of letters, digits, '.', '_' and '-', and not \".\" or \"..\""
    );
    let long = "t".repeat(250);
    assert_eq!(
        key_value(&[("kafka", &format!("topic = \"{long}\""))]),
        kv("kafka.topic", &format!("{long:?}"))
    );
    ok(&[("kafka", &format!("topic = \"{}\"", "t".repeat(249)))]);
    for key in [
        "offset_topic",
        "config_topic",
        "status_topic",
        "dead_letter_topic",
        "error_topic",
    ] {
        assert_eq!(
            key_value(&[("kafka", &format!("{key} = \"bad/topic\""))]),
            kv(&format!("kafka.{key}"), "\"bad/topic\"")
        );
        assert_eq!(
            key_value(&[("kafka", &format!("{key} = \"..\""))]),
            kv(&format!("kafka.{key}"), "\"..\"")
        );
    }
}

#[test]
fn internal_topics_do_not_collide() {
    assert_eq!(
        error(&[("kafka", "dead_letter_topic = \"orders\"")]),
        "kafka.dead_letter_topic = \"orders\": this is also kafka.topic, the source topic; the \
         sink would read its own records: choose another name"
    );
    // A source topic equal to a default internal name is caught too.
    assert_eq!(
        key_value(&[("kafka", "topic = \"connect-error-orders-sink\"")]),
        kv("kafka.dead_letter_topic", "\"connect-error-orders-sink\"")
    );
    assert_eq!(
        key_value(&[("kafka", "status_topic = \"connect-config-orders-sink\"")]),
        kv("kafka.status_topic", "\"connect-config-orders-sink\"")
    );
    assert_eq!(
        key_value(&[("kafka", "error_topic = \"connect-offset-orders-sink\"")]),
        kv("kafka.error_topic", "\"connect-offset-orders-sink\"")
    );
    // The product page lets dead-letter and error records share a topic.
    ok(&[
        ("kafka", "dead_letter_topic = \"errs\""),
        ("kafka", "error_topic = \"errs\""),
    ]);
}

#[test]
fn kafka_timeouts() {
    assert_eq!(
        error(&[("kafka", "session_timeout_ms = 999")]),
        "kafka.session_timeout_ms = 999: allowed values are 1000 to 300000 (milliseconds)"
    );
    assert_eq!(
        key_value(&[("kafka", "session_timeout_ms = 300001")]),
        kv("kafka.session_timeout_ms", "300001")
    );
    assert_eq!(
        error(&[("kafka", "commit_interval_ms = 99")]),
        "kafka.commit_interval_ms = 99: allowed values are 100 (milliseconds) or more"
    );
    assert_eq!(
        error(&[
            ("kafka", "session_timeout_ms = 6000"),
            ("kafka", "drain_timeout_ms = 6000")
        ]),
        "kafka.drain_timeout_ms = 6000: allowed values are 1 to 5999 (below \
         kafka.session_timeout_ms = 6000, so a revoke finishes before the group evicts this \
         consumer); remove the key for the default, half of kafka.session_timeout_ms"
    );
    assert_eq!(
        key_value(&[("kafka", "drain_timeout_ms = 0")]),
        kv("kafka.drain_timeout_ms", "0")
    );
    assert_eq!(ok(&[]).kafka.drain_timeout_ms(), 5000);
}

#[test]
fn kafka_client_properties() {
    assert_eq!(
        error(&[("kafka.client", "\"enable.auto.commit\" = \"true\"")]),
        "kafka.client.\"enable.auto.commit\" = \"true\": the sink commits offsets itself, only \
         after Tablestore acknowledged the rows (at least once); remove it from [kafka.client]"
    );
    assert_eq!(
        error(&[("kafka.client", "\"enable.partition.eof\" = \"true\"")]),
        "kafka.client.\"enable.partition.eof\" = \"true\": the sink keeps it off: it reads \
         partitions in batches, where an end-of-partition event moves librdkafka's read position \
         like a message; remove it from [kafka.client]"
    );
    assert_eq!(
        key_value(&[("kafka.client", "\"group.id\" = \"g\"")]),
        kv("kafka.client.\"group.id\"", "\"g\"")
    );
    assert_eq!(
        key_value(&[("kafka.client", "\"security.protocol\" = \"tls\"")]),
        kv("kafka.client.\"security.protocol\"", "\"tls\"")
    );
    assert_eq!(
        key_value(&[("kafka.client", "\"security.protocol\" = \"sasl_ssl\"")]),
        kv("kafka.client.\"security.protocol\"", "\"sasl_ssl\"")
    );
    assert_eq!(
        key_value(&[
            ("kafka.client", "\"security.protocol\" = \"sasl_ssl\""),
            ("kafka.client", "\"sasl.mechanism\" = \"GSSAPI\""),
        ]),
        kv("kafka.client.\"sasl.mechanism\"", "\"GSSAPI\"")
    );
    let secret = "s3cret-value";
    let e = error(&[
        ("kafka.client", "\"security.protocol\" = \"SASL_SSL\""),
        ("kafka.client", "\"sasl.mechanisms\" = \"SCRAM-SHA-256\""),
        ("kafka.client", &format!("\"sasl.password\" = \"{secret}\"")),
    ]);
    assert!(
        e.starts_with(
            "kafka.client.\"sasl.mechanisms\" = \"SCRAM-SHA-256\": SCRAM-SHA-256 needs \
             sasl.username and sasl.password in [kafka.client], and sasl.username is not set"
        ),
        "{e}"
    );
    assert!(!e.contains(secret));
    ok(&[
        ("kafka.client", "\"security.protocol\" = \"SASL_SSL\""),
        ("kafka.client", "\"sasl.mechanism\" = \"PLAIN\""),
        ("kafka.client", "\"sasl.username\" = \"u\""),
        ("kafka.client", "\"sasl.password\" = \"p\""),
        ("kafka.client", "\"fetch.max.bytes\" = \"1048576\""),
    ]);
}
