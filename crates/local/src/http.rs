//! What the platform's HTTP endpoints share: the accept loop, until their handle is dropped.

use std::error::Error as StdError;
use std::future::Future;

use bytes::Bytes;
use http_body_util::Full;

use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Serves every connection `listener` accepts with `service`, each socket first given to
/// `tune`, until the returned sender is dropped.
pub(crate) fn serve<S, B>(listener: TcpListener, service: S, tune: fn(&TcpStream)) -> oneshot::Sender<()>
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
            tune(&socket);
            let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    stop
}

/// [`serve`] with a plain async function of the request: what the hand-written endpoints
/// (Step Functions, MediaConvert) need.
pub(crate) fn serve_requests<F, Fut>(listener: TcpListener, handle: F) -> oneshot::Sender<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let response = handle(request);
        async move { Ok::<_, std::convert::Infallible>(response.await) }
    });
    serve(listener, service, |_| {})
}
