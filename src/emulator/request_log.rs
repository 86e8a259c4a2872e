//! The recent-request log the console shows: the last [`CAPACITY`]
//! requests with their action, table, status, error and duration, plus
//! running totals. Bounded: client text is cut before it is kept.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Requests kept.
pub const CAPACITY: usize = 500;
/// Longest action, table name or message kept, in bytes.
const MAX_TEXT_BYTES: usize = 512;

/// One served request.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// When the answer was sent, ms since the epoch.
    pub at_ms: i64,
    pub peer: SocketAddr,
    pub action: String,
    /// The table the request names (first one of a batch), when it names one.
    pub table: Option<String>,
    pub status: u16,
    /// Tablestore error code and message for failed requests.
    pub error: Option<(String, String)>,
    pub duration: Duration,
}

/// Shared by the server (writes) and the console (reads).
#[derive(Default)]
pub struct RequestLog {
    recent: Mutex<VecDeque<Entry>>,
    total: AtomicU64,
    failed: AtomicU64,
}

/// `text` cut at a character boundary to [`MAX_TEXT_BYTES`].
fn cut(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…(+{} bytes)", &text[..end], text.len() - end)
}

impl RequestLog {
    pub fn record(
        &self,
        peer: SocketAddr,
        action: &str,
        table: Option<&str>,
        status: u16,
        error: Option<(&str, &str)>,
        duration: Duration,
    ) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if error.is_some() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let entry = Entry {
            at_ms: chrono::Utc::now().timestamp_millis(),
            peer,
            action: cut(action),
            table: table.map(cut),
            status,
            error: error.map(|(c, m)| (c.to_owned(), cut(m))),
            duration,
        };
        let mut recent = self.recent.lock().expect("request log lock");
        if recent.len() == CAPACITY {
            recent.pop_front();
        }
        recent.push_back(entry);
    }

    /// Newest first; only failed requests when `errors_only`.
    pub fn recent(&self, errors_only: bool) -> Vec<Entry> {
        let recent = self.recent.lock().expect("request log lock");
        recent
            .iter()
            .rev()
            .filter(|e| !errors_only || e.error.is_some())
            .cloned()
            .collect()
    }

    /// Requests served and failed since start.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.total.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    #[test]
    fn keeps_the_newest_entries_and_counts_all() {
        let log = RequestLog::default();
        for i in 0..CAPACITY + 10 {
            let err = (i % 2 == 0).then_some(("OTSParameterInvalid", "bad"));
            log.record(peer(), &format!("A{i}"), None, 200, err, Duration::ZERO);
        }
        let recent = log.recent(false);
        assert_eq!(recent.len(), CAPACITY);
        assert_eq!(recent[0].action, format!("A{}", CAPACITY + 9));
        assert!(log.recent(true).iter().all(|e| e.error.is_some()));
        assert_eq!(
            log.totals(),
            (CAPACITY as u64 + 10, (CAPACITY as u64 + 10) / 2)
        );
    }

    #[test]
    fn client_text_is_cut() {
        let log = RequestLog::default();
        let long = "é".repeat(1000);
        log.record(
            peer(),
            &long,
            Some(&long),
            400,
            Some(("X", &long)),
            Duration::ZERO,
        );
        let e = &log.recent(false)[0];
        assert!(
            e.action.len() < 600 && e.action.ends_with("(+1488 bytes)"),
            "{}",
            e.action
        );
        assert!(e.error.as_ref().unwrap().1.len() < 600);
    }
}
