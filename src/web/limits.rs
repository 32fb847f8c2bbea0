//! Slow and greedy clients: a bound on the requests one client address has
//! in progress at once, and deadlines on reading a request body (a pause of
//! `body_idle_secs`, all of it within `body_timeout_secs`). Headers already
//! have actix's 5 s. A client that sends its body a byte a second, over a
//! thousand connections, is cut off at the deadline and, past the bound,
//! refused at once: it cannot hold the server's file descriptors.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::extract::client_address;

/// The limits and the requests in progress per client address.
pub struct Limits {
    max: usize,
    idle: Duration,
    total: Duration,
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

impl Limits {
    pub fn new(settings: &crate::config::Settings) -> Arc<Limits> {
        Arc::new(Limits {
            max: settings.max_requests_per_client.max(1),
            idle: Duration::from_secs(settings.body_idle_secs.max(1)),
            total: Duration::from_secs(settings.body_timeout_secs.max(1)),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut m = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            limits: self.clone(),
            ip,
        })
    }
}

/// One request in progress; counted down when dropped (finished or cancelled).
struct Slot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = self
            .limits
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// The middleware: refuses a client over its bound (429, connection
/// closed) and puts deadlines on the body of a request that has one.
pub async fn limit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    let Some(limits) = req.app_data::<actix_web::web::Data<Arc<Limits>>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let ip: IpAddr = client_address(req.request())
        .parse()
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let Some(_slot) = limits.enter(ip) else {
        tracing::warn!(%ip, "too many requests in progress from one address; refused");
        let res = HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, "5"))
            .insert_header((header::CONNECTION, "close"))
            .json(serde_json::json!({"error": {
                "code": "rate_limited",
                "message": format!(
                    "too many requests in progress from your address at once (at most {}); try again in a moment",
                    limits.max
                ),
                "retry_after": 5,
            }}));
        return Ok(req.into_response(res).map_into_right_body());
    };
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > 0)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body {
        let inner = req.take_payload();
        let now = Instant::now();
        let timed = Deadline {
            inner,
            idle: limits.idle,
            pause: Box::pin(tokio::time::sleep_until(now + limits.idle)),
            end: Box::pin(tokio::time::sleep_until(now + limits.total)),
            done: false,
        };
        req.set_payload(Payload::from(
            Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
        ));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A request body with deadlines: a chunk within `idle` of the last one,
/// and the whole by `end`.
struct Deadline<S> {
    inner: S,
    idle: Duration,
    pause: Pin<Box<Sleep>>,
    end: Pin<Box<Sleep>>,
    done: bool,
}

fn too_slow() -> PayloadError {
    PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the request body did not arrive in time",
    ))
}

impl<S> Stream for Deadline<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let next = Instant::now() + self.idle;
                self.pause.as_mut().reset(next);
                if self.end.as_mut().poll(cx).is_ready() {
                    self.done = true;
                    return Poll::Ready(Some(Err(too_slow())));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                self.done = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => {
                if self.pause.as_mut().poll(cx).is_ready() || self.end.as_mut().poll(cx).is_ready()
                {
                    self.done = true;
                    return Poll::Ready(Some(Err(too_slow())));
                }
                Poll::Pending
            }
        }
    }
}
