//! TimeSeries rows as PutTimeseriesData carries them: a FlatBuffers
//! `FlatBufferRows` buffer (schema `timeseries.fbs`, `PROTOCOL.md` §4.2) plus a
//! CRC-32C of the bytes.
//!
//! The table accessors below are written by hand in the shape `flatc`
//! generates, so decoding runs the FlatBuffers verifier first and never
//! reads outside the buffer. Encoding follows the official SDKs: one row
//! group per row, field names sorted, values bucketed per type in field
//! order, tags carried in `tag_list` sorted by name (table version 1).

use std::collections::BTreeMap;

use flatbuffers::{
    FlatBufferBuilder, Follow, ForwardsUOffset, Table, Vector, Verifiable, Verifier, WIPOffset,
};

/// A series identity: measurement (`_m_name`), data source, sorted tags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub measurement: String,
    pub data_source: String,
    pub tags: BTreeMap<String, String>,
}

impl SeriesKey {
    /// The `["k1=v1","k2=v2"]` form Tablestore stores in `_tags`.
    pub fn tags_string(&self) -> String {
        let inner: Vec<String> = self
            .tags
            .iter()
            .map(|(k, v)| format!("\"{k}={v}\""))
            .collect();
        format!("[{}]", inner.join(","))
    }

    /// Parses the `_tags` string form back into a map.
    pub fn parse_tags(s: &str) -> Option<BTreeMap<String, String>> {
        let inner = s.strip_prefix('[')?.strip_suffix(']')?;
        let mut tags = BTreeMap::new();
        if inner.is_empty() {
            return Some(tags);
        }
        for item in inner.split(',') {
            let item = item.strip_prefix('"')?.strip_suffix('"')?;
            let (k, v) = item.split_once('=')?;
            tags.insert(k.to_owned(), v.to_owned());
        }
        Some(tags)
    }
}

/// A TimeSeries field value with its type.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Long(i64),
    Boolean(bool),
    Double(f64),
    String(String),
    Binary(Vec<u8>),
}

impl FieldValue {
    /// The FlatBuffers `DataType` byte.
    pub fn data_type(&self) -> i8 {
        match self {
            FieldValue::Long(_) => data_type::LONG,
            FieldValue::Boolean(_) => data_type::BOOLEAN,
            FieldValue::Double(_) => data_type::DOUBLE,
            FieldValue::String(_) => data_type::STRING,
            FieldValue::Binary(_) => data_type::BINARY,
        }
    }

    /// Size counted against the request limit.
    pub fn payload_len(&self) -> usize {
        match self {
            FieldValue::Long(_) | FieldValue::Double(_) => 8,
            FieldValue::Boolean(_) => 1,
            FieldValue::String(s) => s.len(),
            FieldValue::Binary(b) => b.len(),
        }
    }
}

/// `DataType` enum of `timeseries.fbs`.
pub mod data_type {
    pub const NONE: i8 = 0;
    pub const LONG: i8 = 1;
    pub const BOOLEAN: i8 = 2;
    pub const DOUBLE: i8 = 3;
    pub const STRING: i8 = 4;
    pub const BINARY: i8 = 5;
}

/// One point of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeseriesRow {
    pub key: SeriesKey,
    /// Microseconds since the epoch, never negative.
    pub time_us: i64,
    /// Field name → value. Sorted by name when encoded.
    pub fields: Vec<(String, FieldValue)>,
    /// Seconds value last returned in `meta_update_status` for this series,
    /// 0 if unknown; lets the server skip meta writes.
    pub meta_cache_update_time: u32,
}

/// Why a rows buffer was rejected.
#[derive(Debug, thiserror::Error)]
pub enum FlatRowsError {
    #[error("TimeSeries rows buffer is not a valid FlatBuffer: {0}")]
    Invalid(#[from] flatbuffers::InvalidFlatbuffer),
    #[error("TimeSeries rows CRC-32C is {found:#010x}, computed {computed:#010x}")]
    Crc { found: u32, computed: u32 },
    #[error("TimeSeries row group {group}: {problem}")]
    Malformed { group: usize, problem: String },
    #[error("TimeSeries rows buffer holds {count} rows; the limit is {MAX_ROWS}")]
    TooManyRows { count: usize },
    #[error("TimeSeries row group {group} names {count} fields; the limit is {MAX_FIELDS}")]
    TooManyFields { group: usize, count: usize },
    #[error(
        "TimeSeries rows expand to more than {MAX_EXPANDED_BYTES} bytes of names and values \
         (the buffer points at the same data many times)"
    )]
    TooLarge,
}

/// Most rows one PutTimeseriesData may carry (the service's limit).
pub const MAX_ROWS: usize = 200;
/// Most fields of one row (the service's limit).
pub const MAX_FIELDS: usize = 1024;
/// Most bytes the decoded rows may hold: names, tags and values, plus
/// [`FIELD_OVERHEAD_BYTES`] per field. FlatBuffers offsets can point at one
/// string or row many times, so decoded size is bounded separately from
/// the 4 MB buffer; 4× leaves room for groups that share field names.
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;
/// What a field costs in [`MAX_EXPANDED_BYTES`] besides its name and value.
pub const FIELD_OVERHEAD_BYTES: usize = 8;

/// CRC-32C of `bytes` as the signed int32 the protobuf field carries.
pub fn crc32c_signed(bytes: &[u8]) -> i32 {
    crc32c::crc32c(bytes) as i32
}

// vtable slot offsets: 4 + 2 * field index.
const fn slot(i: u16) -> u16 {
    4 + 2 * i
}

/// Encodes rows the way the official SDKs do.
pub fn encode<'a>(rows: impl IntoIterator<Item = &'a TimeseriesRow>) -> Vec<u8> {
    let rows = rows.into_iter();
    let mut fbb = FlatBufferBuilder::with_capacity(256 * rows.size_hint().0.max(1));
    let mut groups = Vec::with_capacity(rows.size_hint().0);
    for row in rows {
        groups.push(encode_group(&mut fbb, row));
    }
    let groups = fbb.create_vector(&groups);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), groups);
    let root = fbb.end_table(start);
    fbb.finish(root, None);
    fbb.finished_data().to_vec()
}

fn encode_group(
    fbb: &mut FlatBufferBuilder<'_>,
    row: &TimeseriesRow,
) -> WIPOffset<flatbuffers::TableFinishedWIPOffset> {
    let mut fields: Vec<&(String, FieldValue)> = row.fields.iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));

    let mut longs = Vec::new();
    let mut bools = Vec::new();
    let mut doubles = Vec::new();
    let mut strings = Vec::new();
    let mut binaries = Vec::new();
    for (_, v) in &fields {
        match v {
            FieldValue::Long(x) => longs.push(*x),
            FieldValue::Boolean(x) => bools.push(*x),
            FieldValue::Double(x) => doubles.push(*x),
            FieldValue::String(x) => strings.push(fbb.create_string(x)),
            FieldValue::Binary(x) => {
                let bytes: Vec<i8> = x.iter().map(|b| *b as i8).collect();
                let bytes = fbb.create_vector(&bytes);
                let start = fbb.start_table();
                fbb.push_slot_always(slot(0), bytes);
                binaries.push(fbb.end_table(start));
            }
        }
    }
    let longs = fbb.create_vector(&longs);
    let bools = fbb.create_vector(&bools);
    let doubles = fbb.create_vector(&doubles);
    let strings = fbb.create_vector(&strings);
    let binaries = fbb.create_vector(&binaries);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), longs);
    fbb.push_slot_always(slot(1), bools);
    fbb.push_slot_always(slot(2), doubles);
    fbb.push_slot_always(slot(3), strings);
    fbb.push_slot_always(slot(4), binaries);
    let field_values = fbb.end_table(start);

    let mut tags = Vec::with_capacity(row.key.tags.len());
    for (k, v) in &row.key.tags {
        let k = fbb.create_string(k);
        let v = fbb.create_string(v);
        let start = fbb.start_table();
        fbb.push_slot_always(slot(0), k);
        fbb.push_slot_always(slot(1), v);
        tags.push(fbb.end_table(start));
    }
    let tag_list = fbb.create_vector(&tags);
    let data_source = fbb.create_string(&row.key.data_source);
    let tags_str = fbb.create_string("");
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), data_source);
    fbb.push_slot_always(slot(1), tags_str);
    fbb.push_slot::<i64>(slot(2), row.time_us, 0);
    fbb.push_slot_always(slot(3), field_values);
    fbb.push_slot::<u32>(slot(4), row.meta_cache_update_time, 0);
    fbb.push_slot_always(slot(5), tag_list);
    let row_in_group = fbb.end_table(start);
    let rows = fbb.create_vector(&[row_in_group]);

    let measurement = fbb.create_string(&row.key.measurement);
    let names: Vec<_> = fields.iter().map(|(n, _)| fbb.create_string(n)).collect();
    let names = fbb.create_vector(&names);
    let types: Vec<i8> = fields.iter().map(|(_, v)| v.data_type()).collect();
    let types = fbb.create_vector(&types);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), measurement);
    fbb.push_slot_always(slot(1), names);
    fbb.push_slot_always(slot(2), types);
    fbb.push_slot_always(slot(3), rows);
    fbb.end_table(start)
}

/// Verifies `crc` (if given) and decodes every row of every group.
///
/// Counts before building: the rows (at most [`MAX_ROWS`]) and each
/// group's fields (at most [`MAX_FIELDS`]) are counted from vector lengths
/// before any row is built, and the bytes built are kept under
/// [`MAX_EXPANDED_BYTES`] as they grow, so a small buffer whose offsets
/// repeat one row or one string cannot make the decoder allocate much.
pub fn decode(bytes: &[u8], crc: Option<i32>) -> Result<Vec<TimeseriesRow>, FlatRowsError> {
    if let Some(found) = crc {
        let computed = crc32c::crc32c(bytes);
        if found as u32 != computed {
            return Err(FlatRowsError::Crc {
                found: found as u32,
                computed,
            });
        }
    }
    let root = flatbuffers::root::<RowsT>(bytes)?;
    let Some(groups) = root.row_groups() else {
        return Ok(Vec::new());
    };
    let mut count = 0usize;
    for (gi, group) in groups.iter().enumerate() {
        let fields = group.field_names().map_or(0, |v| v.len());
        if fields > MAX_FIELDS {
            return Err(FlatRowsError::TooManyFields {
                group: gi,
                count: fields,
            });
        }
        count = count.saturating_add(group.rows().map_or(0, |r| r.len()));
    }
    if count > MAX_ROWS {
        return Err(FlatRowsError::TooManyRows { count });
    }
    let mut budget = Budget(MAX_EXPANDED_BYTES);
    let mut out = Vec::with_capacity(count);
    for (gi, group) in groups.iter().enumerate() {
        let bad = |problem: String| FlatRowsError::Malformed { group: gi, problem };
        let measurement = group.measurement_name().unwrap_or_default();
        let names: Vec<&str> = group
            .field_names()
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let types: Vec<i8> = group
            .field_types()
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        if names.len() != types.len() {
            return Err(bad(format!(
                "{} field names but {} field types",
                names.len(),
                types.len()
            )));
        }
        let Some(rows) = group.rows() else { continue };
        for row in rows.iter() {
            budget.take(measurement.len())?;
            let mut tags = BTreeMap::new();
            if let Some(list) = row.tag_list() {
                for tag in list.iter() {
                    let (name, value) = (
                        tag.name().unwrap_or_default(),
                        tag.value().unwrap_or_default(),
                    );
                    budget.take(name.len() + value.len())?;
                    tags.insert(name.to_owned(), value.to_owned());
                }
            }
            if let Some(s) = row.tags().filter(|s| !s.is_empty()) {
                budget.take(s.len())?;
                let parsed = SeriesKey::parse_tags(s)
                    .ok_or_else(|| bad(format!("bad tags string {s:?}")))?;
                tags.extend(parsed);
            }
            let data_source = row.data_source().unwrap_or_default();
            budget.take(data_source.len())?;
            let values = row.field_values();
            let mut cursor = [0usize; 6];
            let mut fields = Vec::with_capacity(names.len());
            for (name, ty) in names.iter().zip(&types) {
                let idx = cursor
                    .get_mut(*ty as u8 as usize)
                    .ok_or_else(|| bad(format!("field {name:?} has unknown type {ty}")))?;
                let i = *idx;
                *idx += 1;
                let missing = || bad(format!("field {name:?}: no value #{i} of type {ty}"));
                let v = values.as_ref().ok_or_else(missing)?;
                let value = match *ty {
                    data_type::LONG => FieldValue::Long(
                        v.long_values()
                            .filter(|x| i < x.len())
                            .ok_or_else(missing)?
                            .get(i),
                    ),
                    data_type::BOOLEAN => FieldValue::Boolean(
                        v.bool_values()
                            .filter(|x| i < x.len())
                            .ok_or_else(missing)?
                            .get(i),
                    ),
                    data_type::DOUBLE => FieldValue::Double(
                        v.double_values()
                            .filter(|x| i < x.len())
                            .ok_or_else(missing)?
                            .get(i),
                    ),
                    data_type::STRING => {
                        let s = v
                            .string_values()
                            .filter(|x| i < x.len())
                            .ok_or_else(missing)?
                            .get(i);
                        budget.take(s.len())?;
                        FieldValue::String(s.to_owned())
                    }
                    data_type::BINARY => {
                        let b = v
                            .binary_values()
                            .filter(|x| i < x.len())
                            .ok_or_else(missing)?
                            .get(i)
                            .value();
                        budget.take(b.map_or(0, |x| x.len()))?;
                        FieldValue::Binary(
                            b.map(|x| x.iter().map(|b| b as u8).collect())
                                .unwrap_or_default(),
                        )
                    }
                    _ => return Err(bad(format!("field {name:?} has unknown type {ty}"))),
                };
                budget.take(FIELD_OVERHEAD_BYTES + name.len())?;
                fields.push(((*name).to_owned(), value));
            }
            out.push(TimeseriesRow {
                key: SeriesKey {
                    measurement: measurement.to_owned(),
                    data_source: data_source.to_owned(),
                    tags,
                },
                time_us: row.time(),
                fields,
                meta_cache_update_time: row.meta_cache_update_time(),
            });
        }
    }
    Ok(out)
}

/// Bytes the decoder may still build.
struct Budget(usize);

impl Budget {
    fn take(&mut self, n: usize) -> Result<(), FlatRowsError> {
        self.0 = self.0.checked_sub(n).ok_or(FlatRowsError::TooLarge)?;
        Ok(())
    }
}

// ===== hand-written table accessors (flatc shape) =====

macro_rules! fb_table {
    ($name:ident) => {
        #[derive(Clone, Copy)]
        struct $name<'a> {
            tab: Table<'a>,
        }
        impl<'a> Follow<'a> for $name<'a> {
            type Inner = $name<'a>;
            unsafe fn follow(buf: &'a [u8], loc: usize) -> Self::Inner {
                // SAFETY: forwarded from the caller, as flatc-generated code does.
                $name {
                    tab: unsafe { Table::new(buf, loc) },
                }
            }
        }
    };
}

type VecOf<'a, T> = Vector<'a, ForwardsUOffset<T>>;

fb_table!(RowsT);
fb_table!(GroupT);
fb_table!(RowT);
fb_table!(ValuesT);
fb_table!(TagT);
fb_table!(BytesT);

// SAFETY (all accessors): the buffer was checked by the verifier in
// `flatbuffers::root`, which visits exactly these slots with these types.
impl<'a> RowsT<'a> {
    fn row_groups(&self) -> Option<VecOf<'a, GroupT<'a>>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<VecOf<'a, GroupT<'a>>>>(slot(0), None)
        }
    }
}
impl<'a> GroupT<'a> {
    fn measurement_name(&self) -> Option<&'a str> {
        unsafe { self.tab.get::<ForwardsUOffset<&str>>(slot(0), None) }
    }
    fn field_names(&self) -> Option<VecOf<'a, &'a str>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<VecOf<'a, &str>>>(slot(1), None)
        }
    }
    fn field_types(&self) -> Option<Vector<'a, i8>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, i8>>>(slot(2), None)
        }
    }
    fn rows(&self) -> Option<VecOf<'a, RowT<'a>>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<VecOf<'a, RowT<'a>>>>(slot(3), None)
        }
    }
}
impl<'a> RowT<'a> {
    fn data_source(&self) -> Option<&'a str> {
        unsafe { self.tab.get::<ForwardsUOffset<&str>>(slot(0), None) }
    }
    fn tags(&self) -> Option<&'a str> {
        unsafe { self.tab.get::<ForwardsUOffset<&str>>(slot(1), None) }
    }
    fn time(&self) -> i64 {
        unsafe { self.tab.get::<i64>(slot(2), Some(0)).unwrap_or(0) }
    }
    fn field_values(&self) -> Option<ValuesT<'a>> {
        unsafe { self.tab.get::<ForwardsUOffset<ValuesT<'a>>>(slot(3), None) }
    }
    fn meta_cache_update_time(&self) -> u32 {
        unsafe { self.tab.get::<u32>(slot(4), Some(0)).unwrap_or(0) }
    }
    fn tag_list(&self) -> Option<VecOf<'a, TagT<'a>>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<VecOf<'a, TagT<'a>>>>(slot(5), None)
        }
    }
}
impl<'a> ValuesT<'a> {
    fn long_values(&self) -> Option<Vector<'a, i64>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, i64>>>(slot(0), None)
        }
    }
    fn bool_values(&self) -> Option<Vector<'a, bool>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, bool>>>(slot(1), None)
        }
    }
    fn double_values(&self) -> Option<Vector<'a, f64>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, f64>>>(slot(2), None)
        }
    }
    fn string_values(&self) -> Option<VecOf<'a, &'a str>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<VecOf<'a, &str>>>(slot(3), None)
        }
    }
    fn binary_values(&self) -> Option<VecOf<'a, BytesT<'a>>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<VecOf<'a, BytesT<'a>>>>(slot(4), None)
        }
    }
}
impl<'a> TagT<'a> {
    fn name(&self) -> Option<&'a str> {
        unsafe { self.tab.get::<ForwardsUOffset<&str>>(slot(0), None) }
    }
    fn value(&self) -> Option<&'a str> {
        unsafe { self.tab.get::<ForwardsUOffset<&str>>(slot(1), None) }
    }
}
impl<'a> BytesT<'a> {
    fn value(&self) -> Option<Vector<'a, i8>> {
        unsafe {
            self.tab
                .get::<ForwardsUOffset<Vector<'a, i8>>>(slot(0), None)
        }
    }
}

type VResult = Result<(), flatbuffers::InvalidFlatbuffer>;

impl Verifiable for RowsT<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<VecOf<GroupT>>>("row_groups", slot(0), false)?
            .finish();
        Ok(())
    }
}
impl Verifiable for GroupT<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<&str>>("measurement_name", slot(0), false)?
            .visit_field::<ForwardsUOffset<VecOf<&str>>>("field_names", slot(1), false)?
            .visit_field::<ForwardsUOffset<Vector<i8>>>("field_types", slot(2), false)?
            .visit_field::<ForwardsUOffset<VecOf<RowT>>>("rows", slot(3), false)?
            .finish();
        Ok(())
    }
}
impl Verifiable for RowT<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<&str>>("data_source", slot(0), false)?
            .visit_field::<ForwardsUOffset<&str>>("tags", slot(1), false)?
            .visit_field::<i64>("time", slot(2), false)?
            .visit_field::<ForwardsUOffset<ValuesT>>("field_values", slot(3), false)?
            .visit_field::<u32>("meta_cache_update_time", slot(4), false)?
            .visit_field::<ForwardsUOffset<VecOf<TagT>>>("tag_list", slot(5), false)?
            .finish();
        Ok(())
    }
}
impl Verifiable for ValuesT<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Vector<i64>>>("long_values", slot(0), false)?
            .visit_field::<ForwardsUOffset<Vector<bool>>>("bool_values", slot(1), false)?
            .visit_field::<ForwardsUOffset<Vector<f64>>>("double_values", slot(2), false)?
            .visit_field::<ForwardsUOffset<VecOf<&str>>>("string_values", slot(3), false)?
            .visit_field::<ForwardsUOffset<VecOf<BytesT>>>("binary_values", slot(4), false)?
            .finish();
        Ok(())
    }
}
impl Verifiable for TagT<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<&str>>("name", slot(0), false)?
            .visit_field::<ForwardsUOffset<&str>>("value", slot(1), false)?
            .finish();
        Ok(())
    }
}
impl Verifiable for BytesT<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> VResult {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Vector<i8>>>("value", slot(0), false)?
            .finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
