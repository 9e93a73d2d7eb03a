//! Runs a simulator's axum router on `127.0.0.1:0` inside the current tokio runtime, and stops
//! it gracefully on request or when the last handle is dropped.

use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long [`Server::shutdown`] waits for in-flight requests before aborting the server task.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running HTTP server. Dropping it stops the server (in-flight requests finish).
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves `router` on a task of the current runtime.
    pub(crate) async fn spawn(router: Router) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    // Resolves on an explicit stop and when the sender is dropped alike.
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "simulator server stopped with an error");
            }
        });
        Ok(Self {
            addr,
            stop: Mutex::new(Some(stop_tx)),
            task: Mutex::new(Some(task)),
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets in-flight requests finish (for at most a few
    /// seconds), and waits for the server task to end.
    pub(crate) async fn shutdown(&self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut task) = task
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}
