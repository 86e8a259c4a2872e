//! Where the writer's requests run: a multi-threaded Tokio runtime of
//! `writer.client_threads` threads, beside the actix thread.
//!
//! Building a request is most of a write's CPU after conversion: protobuf
//! encoding of the batch, the MD5 of the body and the signature, the
//! socket writes, and for the answer its MD5 check and decoding. On the
//! actix thread that work would share one core with every partition
//! actor and the writer's bookkeeping, and that thread would be the
//! ceiling of the process. Here the writer only hands the request over and
//! gets the result back.
//!
//! A request is aborted when its [`InFlightRequest`] is dropped (the
//! writer drops it to cancel a revoked partition's writes), exactly as
//! dropping the future itself would: bytes already on the wire cannot be
//! recalled, nothing more is sent.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::tablestore::Error;

/// The request threads; shut down (without waiting) when dropped.
pub struct RequestRuntime {
    /// `None` only while dropping: a runtime cannot be dropped inside
    /// another's async context, so it is shut down in the background.
    runtime: Option<Runtime>,
}

impl RequestRuntime {
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("tablestore-request")
            .enable_all()
            .build()?;
        Ok(RequestRuntime {
            runtime: Some(runtime),
        })
    }

    /// Starts `request` on the request threads.
    pub fn spawn<T: Send + 'static>(
        &self,
        request: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> InFlightRequest<T> {
        let runtime = self.runtime.as_ref().expect("alive until dropped");
        InFlightRequest(runtime.spawn(request))
    }
}

impl Drop for RequestRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A request running on the request threads; aborts it when dropped.
pub struct InFlightRequest<T>(JoinHandle<Result<T, Error>>);

impl<T> Future for InFlightRequest<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                // Only a panic gets here (an aborted request is never
                // polled again): a passing fault, retried like one.
                Err(Error::transport(format!("the request task failed: {e}")))
            })
        })
    }
}

impl<T> Drop for InFlightRequest<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[actix::test]
    async fn a_request_runs_on_the_request_threads_and_answers() {
        let requests = RequestRuntime::new(2).unwrap();
        let name = requests
            .spawn(async { Ok::<_, Error>(std::thread::current().name().map(str::to_owned)) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("tablestore-request"));
    }

    #[actix::test]
    async fn dropping_a_request_aborts_it() {
        let requests = RequestRuntime::new(1).unwrap();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let request = requests.spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            flag.store(true, Ordering::SeqCst);
            Ok::<_, Error>(())
        });
        drop(request);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            !finished.load(Ordering::SeqCst),
            "the request ran to its end"
        );
    }

    #[actix::test]
    async fn a_panicking_request_is_a_transport_error() {
        let requests = RequestRuntime::new(1).unwrap();
        let err = requests
            .spawn(async { panic!("boom") as Result<(), Error> })
            .await
            .unwrap_err();
        assert_eq!(err.code, crate::tablestore::error::CODE_TRANSPORT);
        assert!(
            err.message.contains("request task failed"),
            "{}",
            err.message
        );
    }

    #[actix::test]
    async fn the_runtime_can_be_dropped_inside_an_actor_system() {
        let requests = RequestRuntime::new(1).unwrap();
        requests.spawn(async { Ok::<_, Error>(()) }).await.unwrap();
        drop(requests);
    }
}
