//! Hand-built FlatBuffers rows buffers that the SDKs never produce, for
//! probing the decoder: one row (or one value) referenced many times.

use flatbuffers::FlatBufferBuilder;

// vtable slot offsets: 4 + 2 * field index (see src/tablestore/flatrows.rs).
const fn slot(i: u16) -> u16 {
    4 + 2 * i
}

/// A `FlatBufferRows` with one group of `fields` LONG fields whose `rows`
/// vector points at the same row `times` times: 4 bytes per repetition on
/// the wire, `fields` decoded fields per repetition.
pub fn repeated_row(times: usize, fields: usize) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let longs = fbb.create_vector(&vec![7i64; fields]);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), longs);
    let values = fbb.end_table(start);
    let source = fbb.create_string("host");
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), source);
    fbb.push_slot::<i64>(slot(2), 1_000_000, 0);
    fbb.push_slot_always(slot(3), values);
    let row = fbb.end_table(start);
    let rows = fbb.create_vector(&vec![row; times]);
    let measurement = fbb.create_string("cpu");
    let names: Vec<_> = (0..fields)
        .map(|i| fbb.create_string(&format!("f{i:03}")))
        .collect();
    let names = fbb.create_vector(&names);
    let types = fbb.create_vector(&vec![1i8; fields]);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), measurement);
    fbb.push_slot_always(slot(1), names);
    fbb.push_slot_always(slot(2), types);
    fbb.push_slot_always(slot(3), rows);
    let group = fbb.end_table(start);
    let groups = fbb.create_vector(&[group]);
    let start = fbb.start_table();
    fbb.push_slot_always(slot(0), groups);
    let root = fbb.end_table(start);
    fbb.finish(root, None);
    fbb.finished_data().to_vec()
}
