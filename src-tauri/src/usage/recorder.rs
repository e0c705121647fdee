//! The usage writer: records go into a channel on the request path and a task writes them to
//! the store in batches (whatever has queued while the last batch was written, up to 500 a
//! transaction), so a crash loses at most what the writer holds: the records of the batch
//! being written and those queued behind it. `record_committed` is the strict mode's: the
//! caller waits until its record's batch is committed and synced to disk. `close` drains the channel and writes what is left, on shutdown. Each record
//! is also offered to the live feed (`subscribe`) that the dashboard follows; building the
//! feed's event costs nothing while nobody listens.

use super::UsageRecord;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

const BATCH: usize = 500;
const INTERVAL: Duration = Duration::from_secs(1);

/// A record on its way to the writer, with whom to tell once it is on disk (strict mode).
struct Queued {
    record: UsageRecord,
    committed: Option<oneshot::Sender<bool>>,
}

#[derive(Clone)]
pub struct UsageRecorder {
    tx: mpsc::UnboundedSender<Queued>,
    feed: broadcast::Sender<Arc<UsageRecord>>,
}

/// Events a slow listener may fall behind by before it misses some (it is told how many).
const FEED_CAPACITY: usize = 256;

pub struct UsageWriter {
    task: tokio::task::JoinHandle<()>,
    closing: tokio::sync::oneshot::Sender<()>,
}

impl UsageRecorder {
    /// Starts the writer task; keep the `UsageWriter` to flush on shutdown.
    pub fn start(store: Store) -> (Self, UsageWriter) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (closing, closing_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(write_loop(store, rx, closing_rx));
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        (Self { tx, feed }, UsageWriter { task, closing })
    }

    /// Hands a record to the writer; never blocks.
    pub fn record(&self, record: UsageRecord) {
        self.send(record, None);
    }

    /// Hands a record to the writer and resolves once it is committed and synced (true), or
    /// could not be written (false).
    pub async fn record_committed(&self, record: UsageRecord) -> bool {
        let (committed, done) = oneshot::channel();
        self.send(record, Some(committed));
        done.await.unwrap_or(false)
    }

    fn send(&self, record: UsageRecord, committed: Option<oneshot::Sender<bool>>) {
        if self.feed.receiver_count() > 0 {
            let _ = self.feed.send(Arc::new(record.clone()));
        }
        if self.tx.send(Queued { record, committed }).is_err() {
            tracing::warn!("a usage record arrived after the writer stopped");
        }
    }
}

impl UsageRecorder {
    /// The live feed: one event per record, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<UsageRecord>> {
        self.feed.subscribe()
    }
}

impl UsageWriter {
    /// Refuses records from now on and waits until every record sent so far is written
    /// (recorders may still be held, as the desktop app's state holds one; requests must be
    /// done).
    pub async fn close(self) {
        let _ = self.closing.send(());
        let _ = self.task.await;
    }
}

/// Writes a batch (synced if anyone waits for it) and tells those waiting.
async fn write(store: &Store, batch: &mut Vec<Queued>) {
    let (records, waiting): (Vec<UsageRecord>, Vec<_>) = batch.drain(..).map(|q| (q.record, q.committed)).unzip();
    let synced = waiting.iter().any(Option::is_some);
    let written = crate::store::usage::insert(store, &records, synced).await;
    if let Err(e) = &written {
        tracing::error!("cannot write {} usage records: {e}", records.len());
    }
    for committed in waiting.into_iter().flatten() {
        let _ = committed.send(written.is_ok());
    }
}

/// How often raw records past the retention period are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes raw records older than the `retention-days` setting.
async fn prune(store: &Store) {
    let days = match crate::store::settings::all(store).await {
        Ok(rows) => crate::base::settings::Settings::from_rows(&rows).retention_days,
        Err(_) => return,
    };
    let before = crate::routing::state::unix_ms(std::time::SystemTime::now()) - days as i64 * 86_400_000;
    match crate::store::usage::prune(store, before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} usage records older than {days} days (their hourly totals stay)"),
        Err(e) => tracing::warn!("cannot prune usage records: {e}"),
    }
}

async fn write_loop(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    mut closing: tokio::sync::oneshot::Receiver<()>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut closed = false;
    prune(&store).await;
    let mut last_prune = tokio::time::Instant::now();
    loop {
        if last_prune.elapsed() >= PRUNE_EVERY {
            prune(&store).await;
            last_prune = tokio::time::Instant::now();
        }
        let open = tokio::select! {
            got = rx.recv() => match got {
                Some(r) => {
                    batch.push(r);
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                    true
                }
                None => false,
            },
            () = tokio::time::sleep(INTERVAL), if !batch.is_empty() => true,
            // Closing: no new records; those already sent are still received, then None.
            _ = &mut closing, if !closed => {
                closed = true;
                rx.close();
                true
            }
        };
        // Write when the batch is full, when a second passed, or at the end.
        let due = batch.len() >= BATCH || !open || rx.is_empty();
        if due && !batch.is_empty() {
            write(&store, &mut batch).await;
        }
        if !open {
            return;
        }
    }
}
