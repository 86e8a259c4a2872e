//! Rules of `[tablestore]` and `[wide_column]`: endpoints, credentials,
//! table names, model sections, primary keys and delete modes.

use super::*;

const REMOTE: [(&str, &str); 3] = [
    (
        "tablestore",
        "endpoint = \"https://inst.cn-hangzhou.ots.aliyuncs.com\"",
    ),
    ("tablestore", "access_key_id = \"ak\""),
    ("tablestore", "access_key_secret = \"sk\""),
];

#[test]
fn endpoint_is_embedded_or_url() {
    assert_eq!(
        error(&[("tablestore", "endpoint = \"inst.ots.aliyuncs.com\"")]),
        "tablestore.endpoint = \"inst.ots.aliyuncs.com\": use \"embedded\" (the emulator, run \
         inside the sink) or an http:// or https:// URL such as \
         \"https://<instance>.cn-hangzhou.ots.aliyuncs.com\""
    );
    assert_eq!(
        key_value(&[("tablestore", "endpoint = \"https://\"")]),
        kv("tablestore.endpoint", "\"https://\"")
    );
    ok(&REMOTE);
    assert_eq!(
        key_value(&[("tablestore", "data_dir = \"\"")]),
        kv("tablestore.data_dir", "\"\"")
    );
    let mut http = REMOTE.to_vec();
    http[0] = ("tablestore", "endpoint = \"http://127.0.0.1:8800\"");
    ok(&http);
}

#[test]
fn credentials_for_remote_endpoints() {
    let mut c = REMOTE.to_vec();
    c[1] = ("tablestore", "access_key_id = \"\"");
    assert_eq!(key_value(&c), kv("tablestore.access_key_id", "\"\""));
    let mut c = REMOTE.to_vec();
    c[2] = ("tablestore", "access_key_secret = \"\"");
    assert_eq!(key_value(&c), kv("tablestore.access_key_secret", "\"\""));
    // The embedded emulator has its own defaults.
    ok(&[("tablestore", "access_key_id = \"\"")]);
}

#[test]
fn instance_is_named() {
    assert_eq!(
        error(&[("tablestore", "instance = \"\"")]),
        "tablestore.instance = \"\": the Tablestore instance name must be non-empty, without \
         spaces (e.g. \"my-instance\")"
    );
}

#[test]
fn table_names_per_model() {
    assert_eq!(
        error(&[("tablestore", "table = \"9orders\"")]),
        "tablestore.table = \"9orders\": it starts with '9'; use 1-255 bytes of letters, \
         digits and '_', starting with a letter or '_'"
    );
    assert_eq!(
        key_value(&[("tablestore", "table = \"order-s\"")]),
        kv("tablestore.table", "\"order-s\"")
    );
    let long = "T".repeat(255);
    ok(&[("tablestore", &format!("table = \"{long}\""))]);
    assert_eq!(
        key_value(&[("tablestore", &format!("table = \"{long}x\""))]).0,
        "tablestore.table"
    );
    // TimeSeries tables: 1-128 characters.
    let ts = "m".repeat(129);
    assert_eq!(
        error(&[TS, METRIC, ("tablestore", &format!("table = \"{ts}\""))]),
        format!(
            "tablestore.table = \"{ts}\": the name is 129 characters long; a TimeSeries table \
             name is 1-128 characters of letters, digits and '_', not starting with a digit"
        )
    );
    ok(&[
        TS,
        METRIC,
        ("tablestore", &format!("table = \"{}\"", &ts[1..])),
    ]);
}

#[test]
fn model_sections() {
    assert_eq!(
        error(&[TS]),
        "tablestore.model = \"timeseries\": the [timeseries] section is missing: add it with at \
         least metric_name_field (see config/timeseries.toml), or set tablestore.model = \
         \"wide_column\""
    );
    assert_eq!(
        key_value(&[METRIC]),
        kv("tablestore.model", "\"wide_column\"")
    );
    let e = error(&[TS, ("timeseries", "tag_fields = [\"host\"]")]);
    assert!(e.contains("missing field `metric_name_field`"), "{e}");
    // [wide_column] settings are ignored under the TimeSeries model.
    ok(&[TS, METRIC, ("wide_column", "delete_mode = \"column\"")]);
}

// ---- wide column ---------------------------------------------------------

#[test]
fn primary_key_only_in_record_modes() {
    assert_eq!(
        error(&[PK_ID]),
        "wide_column.primary_key = [\"id\"]: with primary_key_mode = \"kafka\" the primary key \
         is always topic_partition + offset: remove primary_key, or set primary_key_mode = \
         \"record_key\" or \"record_value\" to take it from the message"
    );
    assert_eq!(
        error(&[RECORD_KEY]),
        "wide_column.primary_key = []: 0 columns; with primary_key_mode = \"record_key\" a \
         table has 1 to 4 primary key columns: declare the columns, e.g. primary_key = [{ name \
         = \"id\", type = \"string\" }]"
    );
    ok(&[RECORD_KEY, PK_ID]);
    // The Java plugin's column names are fine as record PK names.
    ok(&[
        RECORD_KEY,
        (
            "wide_column",
            "primary_key = [{ name = \"topic_partition\", type = \"string\" }, { name = \
             \"offset\", type = \"integer\" }]",
        ),
    ]);
}

#[test]
fn primary_key_column_names() {
    assert_eq!(
        error(&[
            RECORD_KEY,
            (
                "wide_column",
                "primary_key = [{ name = \"id\", type = \"string\" }, { name = \"user-id\", type \
                 = \"string\" }]"
            ),
        ]),
        "wide_column.primary_key[1].name = \"user-id\": '-' is not allowed; use 1-255 bytes of \
         letters, digits and '_', starting with a letter or '_'"
    );
    assert_eq!(
        error(&[
            RECORD_KEY,
            (
                "wide_column",
                "primary_key = [{ name = \"id\", type = \"string\" }, { name = \"id\", type = \
                 \"integer\" }]"
            ),
        ]),
        "wide_column.primary_key[1].name = \"id\": already declared as \
         wide_column.primary_key[0]: list each primary key column once"
    );
}

#[test]
fn record_value_needs_json_values() {
    assert_eq!(
        error(&[
            ("wide_column", "primary_key_mode = \"record_value\""),
            ("wide_column", "value_format = \"string\""),
            PK_ID,
        ]),
        "wide_column.value_format = \"string\": primary_key_mode = \"record_value\" takes the \
         primary key from fields of a JSON value: set value_format = \"json\""
    );
}

#[test]
fn string_key_is_one_column() {
    let two = (
        "wide_column",
        "primary_key = [{ name = \"a\", type = \"string\" }, { name = \"b\", type = \"string\" }]",
    );
    assert_eq!(
        error(&[RECORD_KEY, ("wide_column", "key_format = \"string\""), two]),
        "wide_column.primary_key = [\"a\", \"b\"]: with primary_key_mode = \"record_key\" and \
         key_format = \"string\" the whole key is the primary key, so declare exactly 1 column \
         (or set key_format = \"json\" to take up to 4 fields from a JSON key)"
    );
    ok(&[
        RECORD_KEY,
        ("wide_column", "key_format = \"string\""),
        PK_ID,
    ]);
    ok(&[RECORD_KEY, two]);
}

#[test]
fn column_deletes_are_accepted_with_put_and_with_update() {
    // The page: with put, any delete mode may be set (see `explain` for
    // what it means); `check` and the startup warning explain it.
    ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"column\""),
    ]);
    ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
    ]);
    ok(&[RECORD_KEY, PK_ID, ("wide_column", "delete_mode = \"row\"")]);
    ok(&[
        RECORD_KEY,
        PK_ID,
        ("wide_column", "delete_mode = \"row_and_column\""),
        ("wide_column", "write_mode = \"update\""),
    ]);
    assert_eq!(
        key_value(&[
            ("wide_column", "primary_key_mode = \"record_value\""),
            PK_ID,
            ("wide_column", "delete_mode = \"column\""),
            ("wide_column", "write_mode = \"update\""),
        ]),
        kv("wide_column.delete_mode", "\"column\"")
    );
}

#[test]
fn keep_integers_needs_auto() {
    assert_eq!(
        error(&[("wide_column", "keep_integers = true")]),
        "wide_column.keep_integers = true: keep_integers only changes how json_conversion = \
         \"auto\" types numbers (INTEGER instead of DOUBLE), and json_conversion is \"string\": \
         set json_conversion = \"auto\" or remove keep_integers"
    );
    ok(&[
        ("wide_column", "keep_integers = true"),
        ("wide_column", "json_conversion = \"auto\""),
    ]);
}
