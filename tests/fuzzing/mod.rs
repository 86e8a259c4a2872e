//! A deterministic, seeded mutation fuzzer that runs on stable Rust as an
//! ordinary `cargo test`: no nightly, no sanitizers, no extra tools.
//!
//! Each target gets a corpus (SDK fixtures and generated inputs), mutates a
//! corpus entry with 1–4 byte-level operations per case (bit flips,
//! interesting bytes and integers, insertions, deletions, duplicated and
//! spliced chunks, truncation), and runs a check that returns whether the
//! input was accepted or a property violation. Panics are caught per case.
//! Accepted inputs join the corpus (up to a cap), so later cases start from
//! inputs that got deeper. A failing input is saved under
//! `target/tmp/fuzz-crashes/` and named in the failure, and
//! `FUZZ_REPLAY=<file>` re-runs just that input.
//!
//! Bounded: `FUZZ_SCALE` (default 1) multiplies each target's iteration
//! count, `FUZZ_SECONDS` (default 20) caps each target's wall time, and
//! `FUZZ_SEED` (default fixed) picks the sequence; the same seed and scale
//! replay the same cases.
#![allow(dead_code)]

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// SplitMix64: small, fast, and the same sequence on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An integer that often sits on a boundary.
    pub fn interesting_i64(&mut self) -> i64 {
        const EDGES: [i64; 12] = [
            0,
            1,
            -1,
            2,
            127,
            128,
            255,
            65_535,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ];
        if self.chance(2) {
            *self.pick(&EDGES)
        } else {
            self.next_u64() as i64
        }
    }
}

const INTERESTING_U32: [u32; 10] = [
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// Applies one random mutation to `input`; `corpus` feeds splicing.
pub fn mutate_once(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            // Small values are enum tags, types and counts.
            let random = rng.byte();
            input[i] = *rng.pick(&[0u8, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xff, random]);
        }
        2 if len >= 4 => {
            // An interesting little-endian u32 (PlainBuffer and FlatBuffers
            // lengths and offsets), or its varint (protobuf lengths).
            let i = rng.below(len - 3);
            let v = *rng.pick(&INTERESTING_U32);
            let v = if rng.chance(3) {
                v.wrapping_add(len as u32)
            } else {
                v
            };
            if rng.chance(2) {
                input[i..i + 4].copy_from_slice(&v.to_le_bytes());
            } else {
                let mut varint = Vec::new();
                prost::encoding::encode_varint(u64::from(v), &mut varint);
                input.splice(i..i + 1, varint);
            }
        }
        3 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            input.splice(i..i, bytes);
        }
        4 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(16));
            input.drain(i..i + n);
        }
        5 if len > 0 => {
            // Duplicate a chunk (repeats cells, rows, fields, offsets).
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(64));
            let chunk = input[i..i + n].to_vec();
            let most = if rng.chance(8) { 200 } else { 3 };
            let times = 1 + rng.below(most);
            let at = rng.below(len + 1);
            for _ in 0..times {
                input.splice(at..at, chunk.iter().copied());
            }
        }
        6 if !corpus.is_empty() => {
            let other = rng.pick(corpus);
            if !other.is_empty() {
                let i = rng.below(other.len());
                let n = 1 + rng.below((other.len() - i).min(64));
                let at = rng.below(len + 1);
                let end = (at + n).min(len);
                input.splice(at..end, other[i..i + n].iter().copied());
            }
        }
        7 if len > 0 => input.truncate(rng.below(len)),
        8 if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            input.swap(a, b);
        }
        _ => {
            if len > 0 {
                let i = rng.below(len);
                input[i] = input[i].wrapping_add(1 + rng.below(3) as u8);
            } else {
                input.push(rng.byte());
            }
        }
    }
}

/// What a check saw.
pub enum Outcome {
    /// Decoded or served: worth keeping as a corpus entry.
    Accepted,
    /// Refused with a proper error.
    Rejected,
}

/// A property violation, with what was seen.
pub type Violation = String;

/// Runs `target`: `iterations` cases (× `FUZZ_SCALE`) from `seeds`, each
/// checked by `check`. Panics with the saved input on the first panic or
/// violation.
pub fn run(
    target: &str,
    seeds: Vec<Vec<u8>>,
    iterations: u64,
    mut check: impl FnMut(&[u8]) -> Result<Outcome, Violation>,
) {
    assert!(!seeds.is_empty(), "{target}: empty seed corpus");
    if let Some(path) = std::env::var_os("FUZZ_REPLAY").map(PathBuf::from) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(&format!("{target}-")) {
            let input = std::fs::read(&path).unwrap();
            if let Err(v) = check(&input) {
                panic!("{target}: replay of {} fails: {v}", path.display());
            }
        }
        return;
    }
    let env = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let seed = env("FUZZ_SEED", 0x7ab1_e570_5eed);
    let scale = env("FUZZ_SCALE", 1).max(1);
    let deadline = Instant::now() + Duration::from_secs(env("FUZZ_SECONDS", 20));
    let total = iterations * scale;
    let mut rng = Rng::new(seed ^ hash(target));
    let mut corpus = seeds;
    let seeded = corpus.len();
    let (mut accepted, mut done) = (0u64, 0u64);
    let started = Instant::now();
    // Seeds first, unmutated: they must pass too.
    for (i, input) in corpus.iter().enumerate() {
        check_one(target, seed, i as u64, input, &mut check);
    }
    while done < total && Instant::now() < deadline {
        // A quarter of the cases start from a seed, so the SDK's own
        // structure is never diluted away by accepted mutants.
        let from = if rng.chance(4) { seeded } else { corpus.len() };
        let mut input = corpus[rng.below(from)].clone();
        for _ in 0..1 + rng.below(4) {
            mutate_once(&mut rng, &mut input, &corpus);
        }
        input.truncate(6 << 20);
        if let Outcome::Accepted = check_one(target, seed, done, &input, &mut check) {
            accepted += 1;
            if corpus.len() < 2_000 {
                corpus.push(input);
            }
        }
        done += 1;
    }
    eprintln!(
        "fuzz {target}: {done} cases in {:.1} s (seed {seed:#x}), {accepted} accepted, corpus {seeded} -> {}",
        started.elapsed().as_secs_f64(),
        corpus.len()
    );
    assert!(
        done >= total.min(1_000),
        "{target}: only {done} cases ran before the time cap"
    );
}

fn check_one(
    target: &str,
    seed: u64,
    case: u64,
    input: &[u8],
    check: &mut impl FnMut(&[u8]) -> Result<Outcome, Violation>,
) -> Outcome {
    let result = catch_unwind(AssertUnwindSafe(|| check(input)));
    let problem = match result {
        Ok(Ok(outcome)) => return outcome,
        Ok(Err(violation)) => violation,
        Err(panic) => format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        ),
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-{:016x}.bin", hash_bytes(input)));
    std::fs::write(&path, input).unwrap();
    let shown: String = input.iter().take(64).map(|b| format!("{b:02x}")).collect();
    panic!(
        "fuzz {target} (seed {seed:#x}, case {case}): {problem}\n  input ({} bytes, starts {shown}) saved to {}\n  replay: FUZZ_REPLAY={} cargo test --test fuzz_decoders",
        input.len(),
        path.display(),
        path.display()
    );
}

fn hash(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

/// FNV-1a, for stable names.
fn hash_bytes(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, x| {
        (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01b3)
    })
}

// ===== per-thread allocation accounting =====

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Counts this thread's live heap bytes; install with `#[global_allocator]`.
pub struct CountingAllocator;

fn account(delta: isize) {
    // `try_with`: the thread may be tearing down its locals.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now)
            }
        });
    });
}

// SAFETY: forwards to the system allocator; only counts sizes.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new) };
        if !p.is_null() {
            account(new as isize - layout.size() as isize);
        }
        p
    }
}

/// Runs `f` and returns its result with the peak heap growth on this
/// thread while it ran.
pub fn peak_heap<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get);
    (r, (peak - base).max(0) as usize)
}
