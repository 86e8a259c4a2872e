//! What happens to each write of a batch once Tablestore answered (or did
//! not): written, retried, split to find a bad row, or rejected. Pure, so
//! the rules are tested on their own; the errors' dispositions come from
//! the protocol module ([`Error::disposition`]), nowhere else.

use std::time::Duration;

use crate::tablestore::error::Disposition;
use crate::tablestore::{Error, RowResult};

/// The fate of one batch.
#[derive(Debug)]
pub struct Settled<T> {
    pub written: Vec<T>,
    /// To retry after a backoff, and the most cautious disposition seen
    /// (throttling waits longer).
    pub retry: Vec<T>,
    pub retry_because: Option<(Disposition, Error)>,
    /// A request-level data error on a batch of several rows: send each
    /// alone to find the bad one.
    pub split: Vec<T>,
    /// Rejected for their data: to the failure policy.
    pub rejected: Vec<(T, Error)>,
}

impl<T> Settled<T> {
    fn empty() -> Self {
        Settled {
            written: Vec::new(),
            retry: Vec::new(),
            retry_because: None,
            split: Vec::new(),
            rejected: Vec::new(),
        }
    }

    fn retry(&mut self, item: T, error: &Error) {
        self.retry.push(item);
        let d = error.disposition();
        let more_cautious = match &self.retry_because {
            None => true,
            Some((seen, _)) => d == Disposition::Throttled && *seen != Disposition::Throttled,
        };
        if more_cautious {
            self.retry_because = Some((d, error.clone()));
        }
    }
}

/// Sorts `batch` by the answer to its request.
pub fn settle<T>(batch: Vec<T>, result: Result<Vec<RowResult>, Error>) -> Settled<T> {
    let mut out = Settled::empty();
    match result {
        Err(e) => match e.disposition() {
            Disposition::DataRejected if batch.len() > 1 => out.split = batch,
            Disposition::DataRejected => {
                out.rejected = batch.into_iter().map(|t| (t, e.clone())).collect()
            }
            Disposition::Throttled | Disposition::Transient | Disposition::Systemic => {
                for t in batch {
                    out.retry(t, &e);
                }
            }
        },
        Ok(results) if results.iter().all(Result::is_ok) => {
            // The usual answer: the batch is written as it is, without
            // moving each write (a couple of hundred bytes) into a new list.
            debug_assert_eq!(results.len(), batch.len(), "the client checks the count");
            out.written = batch;
        }
        Ok(results) => {
            debug_assert_eq!(results.len(), batch.len(), "the client checks the count");
            for (t, r) in batch.into_iter().zip(results) {
                match r {
                    Ok(()) => out.written.push(t),
                    Err(e) if e.disposition() == Disposition::DataRejected => {
                        out.rejected.push((t, e))
                    }
                    Err(e) => out.retry(t, &e),
                }
            }
        }
    }
    out
}

/// Retry backoff: exponential from `initial` (doubled again for
/// throttling) to `max`, with full jitter over the upper half so retries
/// of many writers spread out. `jitter` is in `[0, 1)`.
pub fn retry_delay(
    attempt: u32,
    disposition: Disposition,
    initial: Duration,
    max: Duration,
    jitter: f64,
) -> Duration {
    let base = if disposition == Disposition::Throttled {
        initial * 2
    } else {
        initial
    };
    let ceiling = base
        .saturating_mul(1u32 << attempt.min(20))
        .min(max)
        .max(Duration::from_millis(1));
    ceiling / 2 + ceiling.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str) -> Error {
        Error::service(status, code, "", None)
    }

    #[test]
    fn a_gateway_answer_retries_every_row_and_rejects_none() {
        let e = Error::gateway(502, b"<html>Bad Gateway</html>", None);
        let s = settle(vec![1, 2, 3], Err(e));
        assert_eq!(s.retry, vec![1, 2, 3]);
        assert!(s.rejected.is_empty() && s.split.is_empty() && s.written.is_empty());
        assert_eq!(s.retry_because.unwrap().0, Disposition::Transient);
    }

    #[test]
    fn resets_integrity_failures_and_undecodable_bodies_retry() {
        for e in [
            Error::transport("connection reset by peer"),
            Error::integrity("response body MD5 mismatch"),
            Error::protocol("does not decode"),
            service(403, "OTSAuthFailed"),
            service(404, "OTSObjectNotExist"),
        ] {
            let s = settle(vec![1], Err(e.clone()));
            assert_eq!(s.retry, vec![1], "{e}");
            assert!(s.rejected.is_empty(), "{e}");
        }
    }

    #[test]
    fn a_request_level_data_error_splits_a_batch_and_rejects_a_single_row() {
        let e = service(400, "OTSParameterInvalid");
        assert_eq!(settle(vec![1, 2], Err(e.clone())).split, vec![1, 2]);
        let s = settle(vec![1], Err(e));
        assert_eq!(s.rejected.len(), 1);
        assert_eq!(s.rejected[0].1.code, "OTSParameterInvalid");
    }

    #[test]
    fn per_row_results_are_sorted_row_by_row() {
        let s = settle(
            vec![1, 2, 3, 4],
            Ok(vec![
                Ok(()),
                Err(service(200, "OTSServerBusy")),
                Err(service(200, "OTSInvalidPK")),
                Err(service(200, "OTSTimeout")),
            ]),
        );
        assert_eq!(s.written, vec![1]);
        assert_eq!(s.retry, vec![2, 4]);
        assert_eq!(s.rejected.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3]);
        assert_eq!(
            s.retry_because.unwrap().0,
            Disposition::Throttled,
            "throttling is the more cautious reason"
        );
    }

    #[test]
    fn backoff_grows_to_the_ceiling_and_throttling_waits_longer() {
        let i = Duration::from_millis(50);
        let m = Duration::from_secs(10);
        let t = Disposition::Transient;
        assert_eq!(retry_delay(0, t, i, m, 0.0), Duration::from_millis(25));
        assert_eq!(retry_delay(0, t, i, m, 0.999_999).as_millis(), 49);
        assert_eq!(retry_delay(3, t, i, m, 0.0), Duration::from_millis(200));
        assert_eq!(retry_delay(30, t, i, m, 0.0), Duration::from_secs(5));
        assert_eq!(
            retry_delay(0, Disposition::Throttled, i, m, 0.0),
            Duration::from_millis(50)
        );
    }
}
