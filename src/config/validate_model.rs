//! The model sections: `[wide_column]` and `[timeseries]`.

use super::checks::{
    column_name_problem, first_duplicate, spelling, tag_name_problem, timeseries_field_problem,
};
use super::timeseries::TimeseriesConfig;
use super::validate::ConfigError;
use super::wide_column::{JsonConversion, KeyValueFormat, PrimaryKeyMode, WideColumnConfig};

/// `[wide_column]`, when `tablestore.model = "wide_column"`.
pub fn validate_wide_column(wc: &WideColumnConfig) -> Result<(), ConfigError> {
    let mode = spelling(&wc.primary_key_mode);
    let names: Vec<&str> = wc.primary_key.iter().map(|c| c.name.as_str()).collect();
    match wc.primary_key_mode {
        PrimaryKeyMode::Kafka => {
            if !wc.primary_key.is_empty() {
                return Err(ConfigError::invalid(
                    "wide_column.primary_key",
                    &names,
                    "with primary_key_mode = \"kafka\" the primary key is always \
                     topic_partition + offset: remove primary_key, or set primary_key_mode \
                     = \"record_key\" or \"record_value\" to take it from the message",
                ));
            }
        }
        PrimaryKeyMode::RecordKey | PrimaryKeyMode::RecordValue => {
            let n = wc.primary_key.len();
            if !(1..=4).contains(&n) {
                let fix = if n == 0 {
                    "declare the columns, e.g. primary_key = [{ name = \"id\", type = \"string\" }]"
                        .to_string()
                } else {
                    format!("remove {}", n - 4)
                };
                return Err(ConfigError::invalid(
                    "wide_column.primary_key",
                    &names,
                    format!(
                        "{n} columns; with primary_key_mode = {mode:?} a table has 1 to 4 \
                         primary key columns: {fix}"
                    ),
                ));
            }
            for (i, name) in names.iter().enumerate() {
                if let Some(problem) = column_name_problem(name) {
                    return Err(ConfigError::invalid(
                        &format!("wide_column.primary_key[{i}].name"),
                        name,
                        problem,
                    ));
                }
            }
            if let Some((first, dup)) = first_duplicate(&names) {
                return Err(ConfigError::invalid(
                    &format!("wide_column.primary_key[{dup}].name"),
                    names[dup],
                    format!(
                        "already declared as wide_column.primary_key[{first}]: list each \
                         primary key column once"
                    ),
                ));
            }
        }
    }
    if wc.primary_key_mode == PrimaryKeyMode::RecordValue && wc.value_format != KeyValueFormat::Json
    {
        return Err(ConfigError::invalid(
            "wide_column.value_format",
            spelling(&wc.value_format),
            "primary_key_mode = \"record_value\" takes the primary key from fields of a JSON \
             value: set value_format = \"json\"",
        ));
    }
    if wc.primary_key_mode == PrimaryKeyMode::RecordKey
        && wc.key_format == KeyValueFormat::String
        && wc.primary_key.len() != 1
    {
        return Err(ConfigError::invalid(
            "wide_column.primary_key",
            &names,
            "with primary_key_mode = \"record_key\" and key_format = \"string\" the whole key \
             is the primary key, so declare exactly 1 column (or set key_format = \"json\" to \
             take up to 4 fields from a JSON key)",
        ));
    }
    if wc.delete_mode.deletes_rows() || wc.delete_mode.deletes_columns() {
        let delete = spelling(&wc.delete_mode);
        if wc.primary_key_mode != PrimaryKeyMode::RecordKey {
            return Err(ConfigError::invalid(
                "wide_column.delete_mode",
                &delete,
                format!(
                    "deletes need primary_key_mode = \"record_key\" (a tombstone has only its \
                     key to find the row by), and primary_key_mode is {mode:?}: set \
                     delete_mode = \"none\" or primary_key_mode = \"record_key\""
                ),
            ));
        }
    }
    validate_text_columns(wc)?;
    if wc.keep_integers && wc.json_conversion != JsonConversion::Auto {
        return Err(ConfigError::invalid(
            "wide_column.keep_integers",
            true,
            "keep_integers only changes how json_conversion = \"auto\" types numbers (INTEGER \
             instead of DOUBLE), and json_conversion is \"string\": set json_conversion = \
             \"auto\" or remove keep_integers",
        ));
    }
    Ok(())
}

/// `key_column` / `value_column`: valid column names, distinct from each
/// other and from the primary key's columns.
fn validate_text_columns(wc: &WideColumnConfig) -> Result<(), ConfigError> {
    let pk: Vec<&str> = match wc.primary_key_mode {
        PrimaryKeyMode::Kafka => vec!["topic_partition", "offset"],
        _ => wc.primary_key.iter().map(|c| c.name.as_str()).collect(),
    };
    for (key, name) in [
        ("wide_column.key_column", &wc.key_column),
        ("wide_column.value_column", &wc.value_column),
    ] {
        if let Some(problem) = column_name_problem(name) {
            return Err(ConfigError::invalid(key, name, problem));
        }
        if pk.contains(&name.as_str()) {
            return Err(ConfigError::invalid(
                key,
                name,
                "this is a primary key column, and an attribute cannot have a primary key \
                 column's name: choose another name",
            ));
        }
    }
    if wc.key_column == wc.value_column {
        return Err(ConfigError::invalid(
            "wide_column.key_column",
            &wc.key_column,
            "this is also wide_column.value_column; a string key and a string value need \
             columns of their own: choose another name",
        ));
    }
    Ok(())
}

/// `[timeseries]`, when `tablestore.model = "timeseries"`.
pub fn validate_timeseries(ts: &TimeseriesConfig) -> Result<(), ConfigError> {
    if ts.metric_name_field.trim().is_empty() {
        return Err(ConfigError::invalid(
            "timeseries.metric_name_field",
            &ts.metric_name_field,
            "name the JSON field holding the metric name (e.g. \"measurement\"), or \
             \"<topic>\" to use the topic name",
        ));
    }
    let optional = [
        (
            "timeseries.data_source_field",
            &ts.data_source_field,
            "remove the key for points without a data source",
        ),
        (
            "timeseries.timestamp_field",
            &ts.timestamp_field,
            "remove the key to use the Kafka record timestamp",
        ),
    ];
    for (key, value, otherwise) in optional {
        if let Some(v) = value {
            if v.trim().is_empty() {
                return Err(ConfigError::invalid(
                    key,
                    v,
                    format!("name a JSON field, or {otherwise}"),
                ));
            }
        }
    }

    // The key fields, in file order: they identify the series and the time,
    // and each JSON field can play only one part.
    let mut key_fields: Vec<(String, &str)> = Vec::new();
    if ts.metric_name_field != "<topic>" {
        key_fields.push((
            "timeseries.metric_name_field".into(),
            ts.metric_name_field.as_str(),
        ));
    }
    if let Some(f) = &ts.data_source_field {
        key_fields.push(("timeseries.data_source_field".into(), f));
    }
    if let Some(f) = &ts.timestamp_field {
        key_fields.push(("timeseries.timestamp_field".into(), f));
    }
    for (i, tag) in ts.tag_fields.iter().enumerate() {
        let key = format!("timeseries.tag_fields[{i}]");
        if let Some(problem) = tag_name_problem(tag) {
            return Err(ConfigError::invalid(&key, tag, problem));
        }
        if let Some(first) = ts.tag_fields[..i].iter().position(|t| t == tag) {
            return Err(ConfigError::invalid(
                &key,
                tag,
                format!("already listed as timeseries.tag_fields[{first}]: list each tag once"),
            ));
        }
        key_fields.push((key, tag));
    }
    for (i, (key, name)) in key_fields.iter().enumerate() {
        if let Some((other, _)) = key_fields[..i].iter().find(|(_, n)| n == name) {
            return Err(ConfigError::invalid(
                key,
                name,
                format!(
                    "this field is already {other}; metric name, data source, tags and \
                     timestamp must be different fields"
                ),
            ));
        }
    }

    if !ts.map_all_fields && ts.fields.is_empty() {
        return Err(ConfigError::invalid(
            "timeseries.fields",
            Vec::<String>::new(),
            "with map_all_fields = false only the listed fields are written, and none is \
             listed: add fields = [{ name = \"value\", type = \"double\" }, ...] or set \
             map_all_fields = true",
        ));
    }
    // With lower-casing on, `fields` names match record fields
    // case-insensitively and are written lower-cased.
    let written = |name: &str| {
        if ts.lowercase_field_names {
            name.to_ascii_lowercase()
        } else {
            name.to_owned()
        }
    };
    for (i, field) in ts.fields.iter().enumerate() {
        let key = format!("timeseries.fields[{i}].name");
        let name = field.name.as_str();
        if let Some(problem) = timeseries_field_problem(&written(name)) {
            let problem =
                if ts.lowercase_field_names || !name.bytes().any(|b| b.is_ascii_uppercase()) {
                    problem
                } else {
                    format!(
                        "{problem}; or set timeseries.lowercase_field_names = true to lower-case \
                     field names"
                    )
                };
            return Err(ConfigError::invalid(&key, name, problem));
        }
        if let Some(first) = ts.fields[..i]
            .iter()
            .position(|f| written(&f.name) == written(name))
        {
            return Err(ConfigError::invalid(
                &key,
                name,
                format!("already listed as timeseries.fields[{first}]: list each field once"),
            ));
        }
        if let Some((other, _)) = key_fields.iter().find(|(_, n)| *n == name) {
            return Err(ConfigError::invalid(
                &key,
                name,
                format!(
                    "collides with a key field ({other} = {name:?}); key fields identify the \
                     series or the time and are not written as data fields: remove it from \
                     fields"
                ),
            ));
        }
    }
    if ts.keep_integers && !ts.map_all_fields {
        return Err(ConfigError::invalid(
            "timeseries.keep_integers",
            true,
            "keep_integers only changes detected types (map_all_fields = true), and every \
             field here has a declared type: declare integer fields with type = \"integer\" \
             and remove keep_integers, or set map_all_fields = true",
        ));
    }
    Ok(())
}
