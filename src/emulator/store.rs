//! Durable storage: a redb database (embedded, ordered B-tree, ACID,
//! fsync on commit) with one writer thread that group-commits.
//!
//! Writes are closures run inside a shared write transaction: the writer
//! thread runs the first job waiting in its queue, then every job queued
//! meanwhile (up to [`MAX_GROUP`]) in order in the same transaction,
//! commits once (one fsync), then answers each job. A job is acknowledged only after the commit returns,
//! so anything acknowledged survives `kill -9`. Contract for jobs: return
//! `Err` only before writing anything (validate first, then write).
//!
//! Reads run on the blocking pool in their own MVCC read transaction and
//! never wait for the writer.

use std::path::Path;
use std::sync::Arc;

pub use redb::Durability;
use redb::{Database, ReadTransaction, ReadableDatabase, TableDefinition, WriteTransaction};

use super::api_error::ApiError;

/// Table name → JSON [`super::catalog::TableInfo`].
pub const TABLES: TableDefinition<&str, &[u8]> = TableDefinition::new("tables");
/// `table id ++ primary key` ([`super::keycodec`]) → PlainBuffer row with all versions.
pub const ROWS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("rows");
/// `table id ++ series key` → protobuf `TimeseriesMeta`.
pub const TS_META: TableDefinition<&[u8], &[u8]> = TableDefinition::new("ts_meta");
/// Counters (`next_table_id`, `auto_increment`).
pub const SYS: TableDefinition<&str, u64> = TableDefinition::new("sys");

/// Most jobs committed together.
const MAX_GROUP: usize = 256;

type Completion = Box<dyn FnOnce(Result<(), ApiError>) + Send>;
type Job = Box<dyn FnOnce(&WriteTransaction) -> Completion + Send>;

/// Cheap to clone; the writer thread stops when the last clone is dropped,
/// after committing what was queued.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    jobs: crossbeam_channel::Sender<Job>,
    /// Joined by [`Store::close`] so the file lock is released on return.
    writer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Store {
    /// Opens (or creates) `dir/tablestore.redb`. `cache_bytes` bounds the
    /// page cache, and with it the emulator's memory.
    pub fn open(dir: &Path, cache_bytes: usize) -> Result<Self, ApiError> {
        Self::open_with(dir, cache_bytes, Durability::Immediate)
    }

    /// [`Store::open`] with another commit durability. `Durability::None`
    /// skips the fsync (nothing survives a crash): for fuzzing and
    /// throwaway stores only; the emulator always opens durably.
    pub fn open_with(
        dir: &Path,
        cache_bytes: usize,
        durability: Durability,
    ) -> Result<Self, ApiError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::internal(format!("creating data dir {}: {e}", dir.display())))?;
        let path = dir.join("tablestore.redb");
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(&path)
            .map_err(|e| ApiError::internal(format!("opening {}: {e}", path.display())))?;
        let txn = db.begin_write()?;
        txn.open_table(TABLES)?;
        txn.open_table(ROWS)?;
        txn.open_table(TS_META)?;
        txn.open_table(SYS)?;
        txn.commit()?;
        let db = Arc::new(db);
        let (tx, rx) = crossbeam_channel::bounded::<Job>(4096);
        let writer_db = db.clone();
        let writer = std::thread::Builder::new()
            .name("emulator-writer".into())
            .spawn(move || writer_loop(&writer_db, rx, durability))
            .map_err(|e| ApiError::internal(format!("starting writer thread: {e}")))?;
        Ok(Store {
            db,
            jobs: tx,
            writer: Arc::new(std::sync::Mutex::new(Some(writer))),
        })
    }

    /// Commits what is queued and closes the database, once every other
    /// clone is gone. Blocks: call from a blocking context.
    pub fn close(self) {
        let writer = self.writer.lock().expect("writer lock").take();
        drop(self.jobs);
        drop(self.db);
        if let Some(w) = writer {
            let _ = w.join();
        }
    }

    /// Runs `f` in a group-committed write transaction; resolves after the
    /// commit is durable.
    pub async fn write<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<R, ApiError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = f(txn);
            Box::new(move |commit: Result<(), ApiError>| {
                let _ = tx.send(commit.and(result));
            })
        });
        // Queued at once unless the queue is full; then waited for off the
        // async workers.
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("storage writer stopped"))
            }
            Err(crossbeam_channel::TrySendError::Full(job)) => {
                let jobs = self.jobs.clone();
                tokio::task::spawn_blocking(move || jobs.send(job))
                    .await
                    .map_err(|e| ApiError::internal(format!("writer queue: {e}")))?
                    .map_err(|_| ApiError::internal("storage writer stopped"))?;
            }
        }
        rx.await
            .map_err(|_| ApiError::internal("storage writer dropped a job"))?
    }

    /// Runs `f` in a read transaction on the blocking pool.
    pub async fn read<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<R, ApiError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read()?;
            f(&txn)
        })
        .await
        .map_err(|e| ApiError::internal(format!("read task: {e}")))?
    }
}

fn writer_loop(db: &Database, rx: crossbeam_channel::Receiver<Job>, durability: Durability) {
    while let Ok(first) = rx.recv() {
        let txn = match db.begin_write() {
            Ok(mut t) => {
                if matches!(durability, Durability::None) {
                    // Only fails once savepoints exist; the emulator makes none.
                    let _ = t.set_durability(durability);
                }
                t
            }
            Err(e) => {
                let err = ApiError::from(e);
                tracing::error!(error = %err, "cannot begin write transaction");
                // Run nothing; dropping a job answers it with an error.
                drop(first);
                while rx.try_recv().is_ok() {}
                continue;
            }
        };
        // Jobs that arrive while earlier ones run join the group, so the
        // group grows with the load instead of being what happened to be
        // queued at the start. A job that panics must not take the writer
        // thread (and every later write) with it: its group is rolled back
        // and answered with an error, and the writer carries on.
        let mut completions: Vec<Completion> = Vec::new();
        let mut panicked = false;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&txn))) {
                Ok(done) => completions.push(done),
                Err(_) => panicked = true,
            }
            if !panicked && completions.len() < MAX_GROUP {
                next = rx.try_recv().ok();
            }
        }
        let committed = if panicked {
            tracing::error!("a write job panicked; its group of writes is rolled back");
            drop(txn);
            Err(ApiError::internal(
                "A write in this group failed unexpectedly; nothing in the group was written.",
            ))
        } else {
            txn.commit().map_err(ApiError::from)
        };
        match &committed {
            Ok(()) => tracing::debug!(jobs = completions.len(), "group committed"),
            Err(e) => tracing::error!(error = %e, "commit failed"),
        }
        for done in completions {
            done(committed.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_keeps_serving() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let err = store
            .write(|_txn| -> Result<(), ApiError> { panic!("planted") })
            .await
            .unwrap_err();
        assert_eq!(err.status, 500);
        store
            .write(|txn| {
                txn.open_table(SYS)?.insert("k", 7)?;
                Ok(())
            })
            .await
            .expect("later writes still commit");
        let v = store
            .read(|txn| Ok(txn.open_table(SYS)?.get("k")?.map(|v| v.value())))
            .await
            .unwrap();
        assert_eq!(v, Some(7));
    }
}
