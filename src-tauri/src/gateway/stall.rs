//! The stall timeout: an upstream body that sends nothing for too long is ended with an error,
//! so a hung provider cannot hold a client forever. Time passing between events is fine, as
//! long as events keep coming (long reasoning streams are not cut).

use bytes::Bytes;
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub struct StallGuard<S> {
    inner: S,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    fired: bool,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        Self { inner, limit, timer: Box::pin(tokio::time::sleep(limit)), fired: false }
    }
}

impl<S> Stream for StallGuard<S>
where
    S: Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.fired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(item)) => {
                let deadline = Instant::now() + self.limit;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(item.map_err(|e| std::io::Error::other(crate::providers::upstream::error_chain(&e)))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.fired = true;
                    let secs = self.limit.as_secs();
                    Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no data for {secs} s (setting stall-timeout-secs)"),
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
