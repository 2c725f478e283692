//! What the platform's HTTP endpoints share: the accept loop, until their handle is dropped;
//! axum's for the endpoints written here (Step Functions, the stand-ins), hyper's for s3s.

use std::error::Error as StdError;

use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Serves every connection `listener` accepts with `service`, each socket first given to
/// `tune`, until the returned sender is dropped. Every socket sends at once (`TCP_NODELAY`):
/// hyper writes a streamed body after its headers, and with Nagle's algorithm on, that second
/// write waited for the client's delayed ACK, about 40 ms per GET (Classify's three requests
/// took 48 ms, and ffmpeg's and ffprobe's opening GETs as much each).
pub fn serve<S, B>(listener: TcpListener, service: S, tune: fn(&TcpStream)) -> oneshot::Sender<()>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let socket = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => socket,
                    Err(_) => continue,
                },
                _ = &mut stopped => break,
            };
            let _ = socket.set_nodelay(true);
            tune(&socket);
            let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    stop
}

/// Serves `router` (axum) on `listener` until the returned sender is dropped, then stops
/// gracefully: no new connection, requests under way answered. Every accepted socket sends at
/// once (`TCP_NODELAY`, as in [`serve`]) and is then given to `tune`.
pub fn serve_router(listener: TcpListener, router: axum::Router, tune: fn(&TcpStream)) -> oneshot::Sender<()> {
    use axum::serve::ListenerExt;
    let (stop, stopped) = oneshot::channel::<()>();
    let listener = listener.tap_io(move |socket| {
        let _ = socket.set_nodelay(true);
        tune(socket);
    });
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "an endpoint stopped serving");
        }
    });
    stop
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU8, Ordering};

    use bytes::Bytes;
    use http_body_util::Full;

    use super::*;

    /// What the accepted socket's `TCP_NODELAY` was when `tune` saw it: 0 unseen, 1 off, 2 on.
    static NODELAY: AtomicU8 = AtomicU8::new(0);

    #[tokio::test]
    async fn every_accepted_socket_sends_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = hyper::service::service_fn(|_request: Request<Incoming>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::new())))
        });
        let _stop = serve(listener, service, |socket| {
            NODELAY.store(if socket.nodelay().unwrap() { 2 } else { 1 }, Ordering::SeqCst);
        });
        let _client = TcpStream::connect(addr).await.unwrap();
        while NODELAY.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(NODELAY.load(Ordering::SeqCst), 2, "the accepted socket has Nagle's algorithm on");
    }

    static ROUTED_NODELAY: AtomicU8 = AtomicU8::new(0);

    #[tokio::test]
    async fn every_socket_an_axum_router_accepts_sends_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _stop = serve_router(listener, axum::Router::new(), |socket| {
            ROUTED_NODELAY.store(if socket.nodelay().unwrap() { 2 } else { 1 }, Ordering::SeqCst);
        });
        let _client = TcpStream::connect(addr).await.unwrap();
        while ROUTED_NODELAY.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(ROUTED_NODELAY.load(Ordering::SeqCst), 2, "the accepted socket has Nagle's algorithm on");
    }
}
