//! Count before building, measured: requests that are small on the wire
//! but would decode into millions of structs are refused with the
//! service's limit errors while the emulator (in this process) allocates
//! little more than the request body itself.
//!
//! A counting global allocator tracks the peak of live heap bytes; each
//! probe resets the peak to the current level, sends one request, and
//! bounds the growth. One test function, so probes never overlap.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use prost::Message;
use tablestore_sink::tablestore::plainbuffer::{self, Cell, PkValue, Row};
use tablestore_sink::tablestore::proto::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MB: usize = 1024 * 1024;

/// Runs `probe` and returns how far the live heap rose above where it was.
async fn peak_growth<F: std::future::Future<Output = ()>>(probe: F) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    probe.await;
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_requests_that_would_decode_into_millions_of_structs_cost_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let emu = common::emulator(dir.path()).await;
    let client = common::client(&emu);
    let wide = common::unique("wide");
    client
        .create_table(&CreateTableRequest::new(
            &wide,
            &[("pk", PrimaryKeyType::String)],
        ))
        .await
        .unwrap();
    let ts = common::unique("ts");
    client.create_timeseries_table(&ts, -1).await.unwrap();

    // 1. A 5 MB BatchWriteRow of 2.6 M empty rows (2 bytes each).
    let mut table = vec![0x0a, 1, b't'];
    for _ in 0..2_600_000 {
        table.extend_from_slice(&[0x12, 0]);
    }
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(table.len() as u64, &mut body);
    body.extend_from_slice(&table);
    drop(table);
    let body_len = body.len();
    let grew = peak_growth(async {
        let resp = common::raw_http::signed_post(emu.addr, "BatchWriteRow", &body).await;
        assert_eq!(resp.status, 400);
        assert!(
            resp.error().1.ends_with("Limit:200, Current:2600000."),
            "{:?}",
            resp.error()
        );
    })
    .await;
    println!(
        "BatchWriteRow, 2.6 M empty rows in {:.1} MB: heap peak +{:.1} MB",
        body_len as f64 / MB as f64,
        grew as f64 / MB as f64
    );
    // The body (received, then made contiguous) and the request copy: ~3x.
    assert!(grew < 24 * MB, "heap grew {grew} bytes");
    drop(body);

    // 2. A PutTimeseriesData whose rows vector repeats one row 20 000 times.
    let rows = common::flat::repeated_row(20_000, 100);
    let req = PutTimeseriesDataRequest {
        table_name: ts.clone(),
        rows_data: TimeseriesRows {
            r#type: RowsSerializeType::RstFlatBuffer as i32,
            rows_data: rows.clone(),
            flatbuffer_crc32c: None,
        },
        meta_update_mode: None,
        supported_table_version: Some(1),
    };
    let grew = peak_growth(async {
        let err = client
            .call::<_, PutTimeseriesDataResponse>("PutTimeseriesData", &req)
            .await
            .unwrap_err();
        assert!(err.message.ends_with("Limit:200, Current:20000."), "{err}");
    })
    .await;
    println!(
        "PutTimeseriesData, one 100-field row referenced 20 000 times in {} KB: heap peak +{:.1} MB",
        rows.len() / 1024,
        grew as f64 / MB as f64
    );
    assert!(grew < 8 * MB, "heap grew {grew} bytes");

    // 3. A PutRow of ~380 000 tiny cells (4 MB): counted, not kept.
    let row = Row {
        primary_key: vec![("pk".into(), PkValue::String("a".into()))],
        cells: (0..380_000).map(|_| Cell::delete_all("c")).collect(),
        delete_marker: false,
    };
    let put = PutRowRequest {
        table_name: wide.clone(),
        row: plainbuffer::encode_row(&row),
        condition: Condition {
            row_existence: RowExistenceExpectation::Ignore as i32,
            column_condition: None,
        },
        ..Default::default()
    };
    drop(row);
    let grew = peak_growth(async {
        let err = client
            .call::<_, WriteRowResponse>("PutRow", &put)
            .await
            .unwrap_err();
        assert_eq!(err.code, "OTSOutOfColumnCountLimit");
        assert_eq!(
            err.message,
            "The number of columns from the request exceeded the limit. Limit:1024, Current:380000."
        );
    })
    .await;
    println!(
        "PutRow, 380 000 cells in {:.1} MB: heap peak +{:.1} MB",
        put.row.len() as f64 / MB as f64,
        grew as f64 / MB as f64
    );
    assert!(grew < 24 * MB, "heap grew {grew} bytes");

    // 4. A GetRow whose composite filter holds 2.6 M empty sub-filters.
    let mut composite = vec![0x08, LogicalOperator::LoAnd as u8];
    for _ in 0..2_600_000 {
        composite.extend_from_slice(&[0x12, 0]);
    }
    let filter = Filter {
        r#type: FilterType::FtCompositeColumnValue as i32,
        filter: composite,
    };
    let get = GetRowRequest {
        table_name: wide,
        primary_key: plainbuffer::encode_primary_key(&[(
            "pk".to_string(),
            PkValue::String("a".into()),
        )]),
        max_versions: Some(1),
        filter: Some(filter.encode_to_vec()),
        ..Default::default()
    };
    let grew = peak_growth(async {
        let err = client
            .call::<_, GetRowResponse>("GetRow", &get)
            .await
            .unwrap_err();
        assert_eq!(
            err.message,
            "The filter has more than 10 column conditions."
        );
    })
    .await;
    println!(
        "GetRow, a filter of 2.6 M empty sub-filters: heap peak +{:.1} MB",
        grew as f64 / MB as f64
    );
    // Linear copies of the 5 MB filter (client, body, request, filter message).
    assert!(grew < 32 * MB, "heap grew {grew} bytes");
    emu.stop().await;
}
