//! Prometheus metrics (`GET /metrics` when `server.metrics` is on): requests by route
//! pattern and status with latency histograms, search latency by operation, and — read
//! at scrape time — the outbox backlog and the index lag.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The matched route pattern (`/api/v1/technologies/{id}`), never the raw path, so
    /// the number of series stays bounded; `unmatched` for anything no route took.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 0.5 ms to about 16 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    search_seconds: Histograms<OperationLabels>,
    outbox_pending: Gauge,
    outbox_dead: Gauge,
    index_lag: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("techex");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let request_seconds: Histograms<RouteLabels> = Family::new_with_constructor(latency);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route pattern",
            request_seconds.clone(),
        );
        let search_seconds: Histograms<OperationLabels> = Family::new_with_constructor(latency);
        registry.register(
            "search_duration_seconds",
            "Time the index takes to answer, by operation (search, suggest, matching)",
            search_seconds.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "outbox_pending",
            "Emails waiting to be sent (read when scraped)",
            outbox_pending.clone(),
        );
        let outbox_dead = Gauge::default();
        registry.register(
            "outbox_dead",
            "Emails given up on after every retry (read when scraped)",
            outbox_dead.clone(),
        );
        let index_lag = Gauge::default();
        registry.register(
            "index_lag",
            "Listing changes this process's index has not applied yet (read when scraped)",
            index_lag.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            search_seconds,
            outbox_pending,
            outbox_dead,
            index_lag,
        }
    }

    /// Counts an answered request and its latency.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Records how long the index took for `operation` (`search`, `suggest`, `matching`).
    pub fn search(&self, operation: &'static str, seconds: f64) {
        self.search_seconds
            .get_or_create(&OperationLabels { operation })
            .observe(seconds);
    }

    /// The figures read at scrape time; `None` leaves the last value.
    pub fn backlog(&self, pending: Option<i64>, dead: Option<i64>, lag: Option<i64>) {
        if let Some(v) = pending {
            self.outbox_pending.set(v);
        }
        if let Some(v) = dead {
            self.outbox_dead.set(v);
        }
        if let Some(v) = lag {
            self.index_lag.set(v);
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
