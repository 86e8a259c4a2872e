//! The [`Converter`] entry point: model selection from a whole config,
//! thread safety, setup failures, the shipped example configs and the
//! reason-code set.

use super::record;
use crate::config::Config;
use crate::convert::timestamp::TimestampError;
use crate::convert::{ConvertError, Converted, Converter, Part, SetupError};
use crate::tablestore::flatrows::FieldValue;
use crate::tablestore::plainbuffer::{PkValue, Value};
use crate::tablestore::proto::OperationType;

const BASE: &str = r#"
[connector]
name = "t"
[kafka]
bootstrap_servers = "127.0.0.1:9092"
topic = "orders"
"#;

fn config(rest: &str) -> Config {
    toml::from_str(&format!("{BASE}{rest}")).expect("test config parses")
}

#[test]
fn converters_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Converter>();
}

#[test]
fn wide_column_model_makes_rows() {
    let c = Converter::new(&config("[tablestore]\ntable = \"orders\"")).expect("converter builds");
    let Converted::Row(w) = c.convert(&record(None, Some(r#"{"a":"1"}"#))).unwrap() else {
        panic!("expected a row")
    };
    assert_eq!(w.op, OperationType::Put);
    assert_eq!(w.row.primary_key[0].1, PkValue::String("orders_3".into()));
    assert_eq!(w.row.latest("a"), Some(&Value::String("1".into())));
}

#[test]
fn timeseries_model_makes_points() {
    let c = Converter::new(&config(
        "[tablestore]\ntable = \"m\"\nmodel = \"timeseries\"\n[timeseries]\nmetric_name_field = \"<topic>\"",
    )).expect("converter builds");
    let Converted::Point(p) = c.convert(&record(None, Some(r#"{"v":1}"#))).unwrap() else {
        panic!("expected a point")
    };
    assert_eq!(p.key.measurement, "orders");
    assert_eq!(p.time_us, 1_700_000_000_123_000);
}

#[test]
fn timeseries_model_needs_its_section() {
    let cfg = config("[tablestore]\ntable = \"m\"\nmodel = \"timeseries\"");
    assert_eq!(
        Converter::new(&cfg).unwrap_err(),
        SetupError::MissingTimeseriesSection
    );
}

#[test]
fn an_unvalidated_config_is_an_error_not_a_panic() {
    let e = Converter::new(&config(
        "[tablestore]\ntable = \"t\"\n[wide_column]\nprimary_key_mode = \"record_key\"",
    ))
    .unwrap_err();
    assert!(matches!(e, SetupError::PrimaryKeyCount { .. }), "{e:?}");
}

#[test]
fn shipped_timeseries_example_converts_as_documented() {
    let cfg: Config = toml::from_str(include_str!("../../../config/timeseries.toml")).unwrap();
    let c = Converter::new(&cfg).expect("converter builds");
    let value = r#"{"measurement": "cpu", "device": "host-17", "region": "cn-hangzhou",
        "rack": "r4", "ts": 1718000000123, "usage": 0.37, "cores": 8, "state": "ok"}"#;
    let Converted::Point(p) = c.convert(&record(None, Some(value))).unwrap() else {
        panic!("expected a point")
    };
    assert_eq!(p.key.measurement, "cpu");
    assert_eq!(p.key.data_source, "host-17");
    assert_eq!(p.key.tags_string(), r#"["rack=r4","region=cn-hangzhou"]"#);
    assert_eq!(p.time_us, 1_718_000_000_123_000);
    let mut fields = p.fields.clone();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        fields,
        vec![
            ("cores".to_owned(), FieldValue::Long(8)),
            ("state".to_owned(), FieldValue::String("ok".into())),
            ("usage".to_owned(), FieldValue::Double(0.37)),
        ]
    );
}

#[test]
fn shipped_minimal_example_converts_as_documented() {
    let cfg: Config = toml::from_str(include_str!("../../../config/minimal.toml")).unwrap();
    let Converted::Row(w) = Converter::new(&cfg)
        .expect("converter builds")
        .convert(&record(None, Some(r#"{"n":1}"#)))
        .unwrap()
    else {
        panic!("expected a row")
    };
    assert_eq!(w.row.latest("n"), Some(&Value::String("1".into())));
}

#[test]
fn reason_codes_are_a_small_fixed_set() {
    let codes = ConvertError::REASON_CODES;
    let mut sorted = codes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), codes.len(), "no duplicates");
    for code in codes {
        assert!(
            code.len() <= 32
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{code}"
        );
    }
    // One of each variant: every code returned is listed, and vice versa.
    let s = String::new;
    let every = [
        ConvertError::InvalidUtf8 {
            part: Part::Key,
            detail: s(),
        },
        ConvertError::InvalidJson {
            part: Part::Key,
            detail: s(),
            hint: "",
        },
        ConvertError::NotAnObject {
            part: Part::Key,
            found: "",
            hint: "",
        },
        ConvertError::Tombstone { hint: s() },
        ConvertError::MissingKey,
        ConvertError::MissingPkField {
            part: Part::Key,
            field: s(),
            problem: "",
        },
        ConvertError::BadPkType {
            part: Part::Key,
            field: s(),
            expected: "",
            found: s(),
            hint: "",
        },
        ConvertError::PkTooLarge { field: s(), len: 0 },
        ConvertError::NoColumns { detail: s() },
        ConvertError::AllNull { count: 1 },
        ConvertError::BadColumnName {
            name: s(),
            problem: "",
            suggestion: s(),
        },
        ConvertError::ValueTooLarge {
            what: "",
            name: s(),
            len: 0,
            limit: 0,
        },
        ConvertError::TooManyColumns {
            what: "",
            count: 0,
            limit: 0,
        },
        ConvertError::RowTooLarge { len: 0 },
        ConvertError::MissingMetric {
            field: s(),
            problem: s(),
        },
        ConvertError::BadMetric {
            field: s(),
            name: s(),
            problem: "",
        },
        ConvertError::BadDataSource {
            field: s(),
            value: s(),
            len: 0,
        },
        ConvertError::BadTag {
            tag: s(),
            problem: s(),
        },
        ConvertError::MissingTimestamp {
            field: s(),
            problem: "",
        },
        ConvertError::BadTimestamp {
            location: s(),
            value: s(),
            problem: TimestampError::Negative,
        },
        ConvertError::BadFieldName {
            name: s(),
            written_as: None,
            problem: "",
            suggestion: s(),
            alternative: "",
        },
        ConvertError::BadFieldValue {
            field: s(),
            expected: "",
            value: s(),
            problem: s(),
        },
        ConvertError::FieldNameClash {
            name: s(),
            first: s(),
            second: s(),
        },
        ConvertError::NoFields { detail: s() },
    ];
    let mut returned: Vec<&str> = every.iter().map(ConvertError::reason_code).collect();
    returned.sort_unstable();
    assert_eq!(returned, sorted);
}
