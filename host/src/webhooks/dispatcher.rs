//! The dispatcher: takes due messages from the outbox, signs them per Standard Webhooks and
//! POSTs them to their endpoints; a 2xx answer delivers a message, anything else schedules a
//! retry (see [`RetryPolicy`]) until the bounded time runs out.
//!
//! It is driven by [`Dispatcher::deliver_due`], one step at a given "now" (tests call it with
//! the times they choose), or by [`Dispatcher::run`], which steps on the wall clock.
//!
//! What it must never do: follow a redirect (a 3xx is a failed attempt), wait without a
//! timeout, or put an endpoint's secret, or its URL beyond the origin, in a log line or a
//! recorded error.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use standardwebhooks::{HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::endpoint::redacted_url;
use super::{
    Endpoint, EndpointRegistry, MessageId, Outbox, OutboxMessage, RetryPolicy, WebhookError,
    sanitize_reason,
};

/// How the dispatcher delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherConfig {
    /// When to retry and when to give up.
    pub retry: RetryPolicy,
    /// The whole request, connecting included; a receiver should answer fast and work later.
    pub request_timeout: Duration,
    /// Connecting alone.
    pub connect_timeout: Duration,
    /// Messages claimed per step.
    pub batch_size: usize,
    /// Deliveries in flight at once.
    pub max_concurrency: usize,
    /// The pause between steps of [`Dispatcher::run`] when nothing more is due.
    pub poll_interval: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            batch_size: 64,
            max_concurrency: 16,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages attempted.
    pub attempted: usize,
    /// Attempts answered with 2xx.
    pub delivered: usize,
    /// Failed attempts that will be retried.
    pub retrying: usize,
    /// Failed attempts after which the message was given up on.
    pub failed: usize,
}

/// Delivers the outbox's messages to their endpoints. Several dispatchers may share one
/// outbox: a message is leased to one of them per attempt.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    outbox: Outbox,
    endpoints: EndpointRegistry,
    /// For endpoints on the public internet: every resolved address is checked.
    client: reqwest::Client,
    /// For endpoints added with the private-network opt-in.
    private_client: reqwest::Client,
    config: DispatcherConfig,
}

impl Dispatcher {
    /// A dispatcher for `outbox`'s messages to `endpoints`. Its HTTP client follows no
    /// redirects, uses no proxy, times every request out and resolves names under the
    /// egress address policy (with the opt-in only for endpoints added with it).
    pub fn new(
        outbox: Outbox,
        endpoints: EndpointRegistry,
        config: DispatcherConfig,
    ) -> Result<Dispatcher, WebhookError> {
        let client = |allow_private_network: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(crate::egress::policy_resolver(allow_private_network))
                .timeout(config.request_timeout)
                .connect_timeout(config.connect_timeout)
                .user_agent(concat!("plantwire-webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(WebhookError::Client)
        };
        Ok(Dispatcher {
            outbox,
            endpoints,
            client: client(false)?,
            private_client: client(true)?,
            config,
        })
    }

    /// One step: attempts every message due at `now` (up to the batch size), signing each
    /// with `now` as its `webhook-timestamp`, and records the outcomes.
    pub async fn deliver_due(&self, now: OffsetDateTime) -> Result<DeliveryReport, WebhookError> {
        let lease = self.config.request_timeout + self.config.connect_timeout + LEASE_MARGIN;
        let lease_until = now
            .checked_add(time::Duration::try_from(lease).unwrap_or(time::Duration::HOUR))
            .unwrap_or(now);
        let outbox = self.outbox.clone();
        let batch = self.config.batch_size.max(1);
        let claimed = blocking(move || outbox.claim_due(now, lease_until, batch)).await?;
        if claimed.is_empty() {
            return Ok(DeliveryReport::default());
        }

        let limit = Arc::new(Semaphore::new(self.config.max_concurrency.max(1)));
        let mut attempts = JoinSet::new();
        for message in claimed {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let endpoint = self.endpoints.get(&message.endpoint_id).cloned();
            let client = match &endpoint {
                Some(e) if e.allows_private_network() => self.private_client.clone(),
                _ => self.client.clone(),
            };
            attempts.spawn(async move {
                let outcome = attempt(&client, endpoint.as_ref(), &message, now).await;
                drop(permit);
                (message, outcome)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = attempts.join_next().await {
            match joined {
                Ok(done) => outcomes.push(done),
                // Its lease runs out and it is retried then.
                Err(e) => tracing::error!(error = %e, "a webhook delivery task failed"),
            }
        }

        let (report, decisions) = decide(&self.config.retry, outcomes, now);
        let outbox = self.outbox.clone();
        blocking(move || {
            for (id, decision) in decisions {
                match decision {
                    Decision::Delivered => outbox.record_delivered(&id, now)?,
                    Decision::Retry { error, at } => {
                        outbox.record_failure(&id, &error, Some(at))?
                    }
                    Decision::GiveUp { error } => outbox.record_failure(&id, &error, None)?,
                }
            }
            Ok(())
        })
        .await?;
        Ok(report)
    }

    /// Steps on the wall clock until `shutdown` completes: at once again when a full batch
    /// was due, otherwise after the poll interval. A step under way when `shutdown` completes
    /// is finished first.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let full = match self.deliver_due(OffsetDateTime::now_utc()).await {
                Ok(report) => report.attempted >= self.config.batch_size.max(1),
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery step failed");
                    false
                }
            };
            let pause = if full {
                Duration::ZERO
            } else {
                self.config.poll_interval
            };
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// Time added to a request's timeouts before a claimed message may be claimed again.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// One attempt: `Ok` on a 2xx answer, else why not (no URL, no secret).
async fn attempt(
    client: &reqwest::Client,
    endpoint: Option<&Endpoint>,
    message: &OutboxMessage,
    now: OffsetDateTime,
) -> Result<(), String> {
    let Some(endpoint) = endpoint else {
        return Err(format!(
            "endpoint {} is not configured",
            sanitize_reason(&message.endpoint_id)
        ));
    };
    let timestamp = now.unix_timestamp();
    let signature = endpoint
        .secret
        .sign(message.id.as_str(), timestamp, &message.payload)
        .map_err(|e| e.to_string())?;
    let response = client
        .post(endpoint.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(HEADER_WEBHOOK_ID, message.id.as_str())
        .header(HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
        .header(HEADER_WEBHOOK_SIGNATURE, signature)
        .body(message.payload.clone())
        .send()
        .await
        .map_err(|e| {
            let error = describe(e);
            tracing::debug!(
                endpoint = %endpoint.id,
                origin = %redacted_url(&endpoint.url),
                error = %error,
                "webhook request failed"
            );
            error
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(format!(
            "endpoint answered HTTP {status}; redirects are not followed"
        ))
    } else {
        Err(format!("endpoint answered HTTP {status}"))
    }
}

/// A transport error in words, without the URL.
fn describe(err: reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let err = err.without_url();
    let mut cause: &dyn std::error::Error = &err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    sanitize_reason(&format!("{what}: {cause}"))
}

/// What becomes of a message after an attempt.
enum Decision {
    Delivered,
    Retry { error: String, at: OffsetDateTime },
    GiveUp { error: String },
}

/// Decides, logs and counts the outcomes of a step (in the caller's task, so its logs go to
/// the caller's subscriber); storing the decisions is left to the caller.
fn decide(
    retry: &RetryPolicy,
    outcomes: Vec<(OutboxMessage, Result<(), String>)>,
    now: OffsetDateTime,
) -> (DeliveryReport, Vec<(MessageId, Decision)>) {
    let mut report = DeliveryReport {
        attempted: outcomes.len(),
        ..DeliveryReport::default()
    };
    let mut decisions = Vec::with_capacity(outcomes.len());
    for (message, outcome) in outcomes {
        let decision = match outcome {
            Ok(()) => {
                report.delivered += 1;
                tracing::info!(
                    message = %message.id,
                    endpoint = %message.endpoint_id,
                    attempt = message.attempts,
                    "webhook delivered"
                );
                Decision::Delivered
            }
            Err(error) => {
                let next = retry.next_attempt(message.created_at, message.attempts, now);
                tracing::warn!(
                    message = %message.id,
                    endpoint = %message.endpoint_id,
                    attempt = message.attempts,
                    error = %error,
                    retry_at = ?next,
                    "webhook delivery failed"
                );
                match next {
                    Some(at) => {
                        report.retrying += 1;
                        Decision::Retry { error, at }
                    }
                    None => {
                        report.failed += 1;
                        Decision::GiveUp { error }
                    }
                }
            }
        };
        decisions.push((message.id, decision));
    }
    (report, decisions)
}

/// Runs outbox work (SQLite, fsync) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, WebhookError> + Send + 'static,
) -> Result<T, WebhookError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(WebhookError::Task)?
}
