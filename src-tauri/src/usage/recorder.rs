//! The usage writer: records go into a channel on the request path and a task writes them to
//! the store in batches (every second, or every 500 records), so a crash loses at most the
//! last second. `close` drains the channel and writes what is left, on shutdown. Each record
//! is also offered to the live feed (`subscribe`) that the dashboard follows; building the
//! feed's event costs nothing while nobody listens.

use super::UsageRecord;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

const BATCH: usize = 500;
const INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct UsageRecorder {
    tx: mpsc::UnboundedSender<UsageRecord>,
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
        if self.feed.receiver_count() > 0 {
            let _ = self.feed.send(Arc::new(record.clone()));
        }
        if self.tx.send(record).is_err() {
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

/// How often raw records past the retention period are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes raw records older than the `retention-days` setting.
async fn prune(store: &Store) {
    let days = match crate::store::settings::all(store).await {
        Ok(rows) => crate::manage::Settings::from_rows(&rows).retention_days,
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
    mut rx: mpsc::UnboundedReceiver<UsageRecord>,
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
            if let Err(e) = crate::store::usage::insert(&store, &batch).await {
                tracing::warn!("cannot write {} usage records: {e}", batch.len());
            }
            batch.clear();
        }
        if !open {
            return;
        }
    }
}
