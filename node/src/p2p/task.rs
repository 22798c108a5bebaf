//! The swarm task: owns the libp2p swarm and is the only code that touches it.
//!
//! It turns gossipsub events into validations (run on the blocking pool, their verdicts sent
//! back here and reported to gossipsub), keeps our unpublished messages until a peer subscribes,
//! asks peers for blobs a validator needs and answers theirs (`blobs`), re-dials lost peers with
//! backoff, and refreshes the shared stats every tick. Nothing here
//! waits on the validator or on the caller: every queue is bounded and every wait has a timeout.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::keccak256;
use anyhow::{Context, anyhow, bail};
use libp2p::core::ConnectedPoint;
use libp2p::futures::StreamExt;
use libp2p::gossipsub::{
    self, IdentTopic, MessageAcceptance, MessageAuthenticity, MessageId, PeerScoreParams,
    PeerScoreThresholds, PublishError, TopicHash, TopicScoreParams, ValidationMode,
};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, noise, tcp, yamux};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{debug, info, warn};

use super::blobs::{Answer, BlobCodec, BlobSource, PROTOCOL};
use super::limit::RateLimiter;
use super::{
    Fetch, Fetcher, HISTORY_LENGTH, P2pConfig, PeerStats, Received, Shared, Validation, Validator,
};

const TARGET: &str = "ranger::p2p";

/// Validations running at once; beyond it a message is ignored unvalidated (counted as busy).
/// Each holds one blocking-pool thread while the validator runs.
const MAX_VALIDATIONS: usize = 64;

/// Our messages kept while no peer is subscribed; the oldest is dropped beyond it.
const MAX_QUEUED: usize = 1024;

/// Bytes a signed gossipsub message adds around its data (author id ~40, sequence number,
/// topic, signature ≤ 72, public key ≤ 40, protobuf tags): the per-topic frame bound is the
/// message bound plus this, so an honest maximum-size message always fits.
const ENVELOPE_BYTES: usize = 1024;

/// gossipsub's own default frame bound; control frames (IHAVE/IWANT lists of ids) need room even
/// when messages are small.
const MIN_FRAME_BYTES: usize = 64 * 1024;

const FIRST_REDIAL: Duration = Duration::from_secs(1);
const MAX_REDIAL: Duration = Duration::from_secs(60);

/// How long `start` waits for the listener to report its address.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a validated message waits for room in the accepted queue before it is dropped from
/// it (it is still relayed: it is valid).
const DELIVER_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections with nothing to do (no mesh) close after this; configured peers are re-dialled.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Blob lookups answering peers at once; more requests wait for a turn (up to `BLOB_TIMEOUT`).
const MAX_SERVES: usize = 8;

/// How long one blob request may take.
const BLOB_TIMEOUT: Duration = Duration::from_secs(10);

/// Request-response streams open at once on one connection (ours and the peer's): room for a
/// fetch from every validation running and a queue of the peer's requests.
const MAX_BLOB_STREAMS: usize = MAX_VALIDATIONS + 4 * MAX_SERVES;

/// Gossip and the blob protocol on one connection.
#[derive(NetworkBehaviour)]
struct Behaviour {
    gossip: gossipsub::Behaviour,
    blobs: request_response::Behaviour<BlobCodec>,
}

pub(super) enum Command {
    Publish {
        bytes: Vec<u8>,
        reply: oneshot::Sender<anyhow::Result<()>>,
    },
}

struct Verdict {
    id: MessageId,
    from: PeerId,
    validation: Validation,
}

/// A configured peer address and when to dial it next.
struct Dial {
    addr: Multiaddr,
    peer: Option<PeerId>,
    backoff: Duration,
    due: Option<Instant>,
}

pub(super) struct Task {
    swarm: Swarm<Behaviour>,
    topic: IdentTopic,
    max_message_bytes: usize,
    graylist_threshold: f64,
    tick: Duration,
    /// A verdict later than this finds the message gone from gossipsub's cache (no relay).
    validation_deadline: Duration,
    validator: Validator,
    validations: Arc<Semaphore>,
    limiter: RateLimiter,
    dials: Vec<Dial>,
    dialling: HashMap<ConnectionId, usize>,
    queued: VecDeque<Vec<u8>>,
    commands: mpsc::Receiver<Command>,
    verdicts: mpsc::Receiver<Verdict>,
    verdict_tx: mpsc::Sender<Verdict>,
    accepted: mpsc::Sender<Received>,
    shared: Arc<Shared>,
    blob_source: Option<BlobSource>,
    serves: Arc<Semaphore>,
    served: mpsc::Receiver<Answer>,
    served_tx: mpsc::Sender<Answer>,
    fetches: mpsc::Receiver<Fetch>,
    fetch_tx: mpsc::Sender<Fetch>,
    /// Our blob requests in flight: the hash asked for and who waits for it.
    asked: HashMap<OutboundRequestId, Fetch>,
}

/// The content address of a message: the same bytes are one message whoever signed them.
fn message_id(data: &[u8]) -> MessageId {
    MessageId::from(keccak256(data).to_vec())
}

/// Scoring that only punishes invalid messages (P₄) and rewards first deliveries (P₂).
/// Mesh-delivery rates (P₃) are off: reports are rare, and a quiet honest peer must not look
/// like a lazy one. One invalid message costs 10, n of them 10·n² (P₄ is squared), so three
/// put a peer under the graylist threshold of −80; the count decays by 0.1 % a second
/// (half-life ≈ 11.5 min), so a peer that stops lying recovers.
fn scoring(topic: TopicHash) -> (PeerScoreParams, PeerScoreThresholds) {
    let topic_params = TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 10.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -10.0,
        invalid_message_deliveries_decay: 0.999,
        ..TopicScoreParams::default()
    };
    let mut params = PeerScoreParams {
        topic_score_cap: 10.0,
        ..PeerScoreParams::default()
    };
    params.topics.insert(topic, topic_params);
    let thresholds = PeerScoreThresholds {
        gossip_threshold: -10.0,
        publish_threshold: -50.0,
        graylist_threshold: -80.0,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 5.0,
    };
    (params, thresholds)
}

/// Refuses a TCP port something already listens on. libp2p binds its listeners with
/// `SO_REUSEPORT`, so a second node on the same port would silently share it with the first (the
/// kernel splitting connections between them); a plain bind, without that option, fails there.
fn ensure_port_free(listen: &Multiaddr) -> anyhow::Result<()> {
    let mut ip = None;
    let mut port = None;
    for protocol in listen.iter() {
        match protocol {
            Protocol::Ip4(v4) => ip = Some(IpAddr::V4(v4)),
            Protocol::Ip6(v6) => ip = Some(IpAddr::V6(v6)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    if let (Some(ip), Some(port)) = (ip, port)
        && port != 0
    {
        std::net::TcpListener::bind((ip, port))
            .with_context(|| format!("p2p: listening on {listen}: the port is taken"))?;
    }
    Ok(())
}

impl Task {
    pub(super) fn new(
        cfg: P2pConfig,
        validator: Validator,
        commands: mpsc::Receiver<Command>,
        accepted: mpsc::Sender<Received>,
        shared: Arc<Shared>,
    ) -> anyhow::Result<Self> {
        let topic = IdentTopic::new(cfg.topic.clone());
        let topic_frame = cfg.max_message_bytes.saturating_add(ENVELOPE_BYTES);
        let gossip_config = gossipsub::ConfigBuilder::default()
            .heartbeat_interval(cfg.heartbeat)
            .history_length(HISTORY_LENGTH)
            .validation_mode(ValidationMode::Strict)
            .validate_messages()
            .message_id_fn(|message: &gossipsub::Message| message_id(&message.data))
            .max_transmit_size(
                topic_frame
                    .saturating_add(ENVELOPE_BYTES)
                    .max(MIN_FRAME_BYTES),
            )
            .max_transmit_size_for_topic(topic_frame, topic.hash())
            .build()
            .map_err(|e| anyhow!("p2p: gossipsub config: {e}"))?;
        let mut gossip = gossipsub::Behaviour::new(
            MessageAuthenticity::Signed(cfg.keypair.clone()),
            gossip_config,
        )
        .map_err(|e| anyhow!("p2p: gossipsub: {e}"))?;
        let (params, thresholds) = scoring(topic.hash());
        let graylist_threshold = thresholds.graylist_threshold;
        gossip
            .with_peer_score(params, thresholds)
            .map_err(|e| anyhow!("p2p: peer scoring: {e}"))?;
        gossip
            .subscribe(&topic)
            .map_err(|e| anyhow!("p2p: subscribing to {}: {e}", cfg.topic))?;

        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(cfg.keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .context("p2p: building the TCP transport")?
            .with_behaviour(|_| Behaviour {
                gossip,
                blobs: request_response::Behaviour::with_codec(
                    BlobCodec {
                        max_bytes: cfg.max_blob_bytes,
                    },
                    [(PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default()
                        .with_request_timeout(BLOB_TIMEOUT)
                        .with_max_concurrent_streams(MAX_BLOB_STREAMS),
                ),
            })
            .map_err(|e| anyhow!("p2p: {e}"))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
            .build();
        ensure_port_free(&cfg.listen)?;
        swarm
            .listen_on(cfg.listen.clone())
            .with_context(|| format!("p2p: listening on {}", cfg.listen))?;

        let (verdict_tx, verdicts) = mpsc::channel(MAX_VALIDATIONS);
        let (served_tx, served) = mpsc::channel(MAX_SERVES);
        let (fetch_tx, fetches) = mpsc::channel(MAX_VALIDATIONS);
        let dials = cfg
            .peers
            .into_iter()
            .map(|addr| Dial {
                addr,
                peer: None,
                backoff: FIRST_REDIAL,
                due: Some(Instant::now()),
            })
            .collect();
        Ok(Self {
            swarm,
            topic,
            max_message_bytes: cfg.max_message_bytes,
            graylist_threshold,
            // Stats and retries at least every second, and every heartbeat when that is shorter.
            tick: cfg.heartbeat.min(Duration::from_secs(1)),
            validation_deadline: cfg
                .heartbeat
                .saturating_mul(u32::try_from(HISTORY_LENGTH - 1).unwrap_or(1)),
            validator,
            validations: Arc::new(Semaphore::new(MAX_VALIDATIONS)),
            limiter: RateLimiter::new(cfg.rate.0, cfg.rate.1),
            dials,
            dialling: HashMap::new(),
            queued: VecDeque::new(),
            commands,
            verdicts,
            verdict_tx,
            accepted,
            shared,
            blob_source: cfg.blobs,
            serves: Arc::new(Semaphore::new(MAX_SERVES)),
            served,
            served_tx,
            fetches,
            fetch_tx,
            asked: HashMap::new(),
        })
    }

    /// Drives the swarm until the listener reports its first address.
    pub(super) async fn wait_listening(&mut self) -> anyhow::Result<()> {
        tokio::time::timeout(LISTEN_TIMEOUT, async {
            while self.shared.listen_addrs().is_empty() {
                let event = self.swarm.select_next_some().await;
                if let SwarmEvent::ListenerClosed { reason, .. } = &event {
                    bail!("the listener closed: {reason:?}");
                }
                self.on_event(event);
            }
            Ok(())
        })
        .await
        .map_err(|_| anyhow!("no listen address after {LISTEN_TIMEOUT:?}"))?
    }

    pub(super) async fn run(mut self) {
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        info!(target: TARGET, peer = %self.swarm.local_peer_id(), topic = %self.topic, "p2p started");
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Publish { bytes, reply }) => {
                        // The caller may have given up (timeout); the message is still ours.
                        let _ = reply.send(self.publish(bytes));
                    }
                    None => break,
                },
                Some(verdict) = self.verdicts.recv() => self.report(verdict),
                Some(fetch) = self.fetches.recv() => {
                    let id = self.swarm.behaviour_mut().blobs.send_request(&fetch.peer, fetch.key);
                    self.asked.insert(id, fetch);
                }
                Some((channel, answer)) = self.served.recv() => {
                    let found = answer.is_some();
                    if self.swarm.behaviour_mut().blobs.send_response(channel, answer).is_err() {
                        debug!(target: TARGET, "a blob asker left before the answer");
                    } else if found {
                        self.shared.stats().blobs_served += 1;
                    }
                }
                event = self.swarm.select_next_some() => self.on_event(event),
                _ = tick.tick() => self.on_tick(),
            }
        }
        info!(target: TARGET, "p2p stopped");
    }

    fn publish(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        if bytes.len() > self.max_message_bytes {
            bail!(
                "p2p: a message of {} bytes is over the {}-byte bound",
                bytes.len(),
                self.max_message_bytes
            );
        }
        match self.try_publish(&bytes) {
            Ok(()) => Ok(()),
            Err(PublishError::NoPeersSubscribedToTopic | PublishError::AllQueuesFull(_)) => {
                let id = message_id(&bytes);
                if !self.queued.iter().any(|q| message_id(q) == id) {
                    if self.queued.len() >= MAX_QUEUED
                        && let Some(old) = self.queued.pop_front()
                    {
                        warn!(target: TARGET, id = %message_id(&old), "publish queue full: dropped the oldest message");
                    }
                    debug!(target: TARGET, %id, "no subscribed peer yet: queued");
                    self.queued.push_back(bytes);
                }
                self.shared.stats().queued = self.queued.len();
                Ok(())
            }
            Err(e) => Err(anyhow!("p2p: publish: {e}")),
        }
    }

    /// Publishes now; a message the network already has counts as published.
    fn try_publish(&mut self, bytes: &[u8]) -> Result<(), PublishError> {
        match self
            .swarm
            .behaviour_mut()
            .gossip
            .publish(self.topic.clone(), bytes.to_vec())
        {
            Ok(id) => {
                debug!(target: TARGET, %id, bytes = bytes.len(), "published");
                self.shared.stats().published += 1;
                Ok(())
            }
            Err(PublishError::Duplicate) => {
                debug!(target: TARGET, id = %message_id(bytes), "already on the network");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Publishes what waited for a peer, in order, until one still finds nobody.
    fn flush_queue(&mut self) {
        while let Some(bytes) = self.queued.front().cloned() {
            match self.try_publish(&bytes) {
                Ok(()) => {
                    self.queued.pop_front();
                }
                Err(PublishError::NoPeersSubscribedToTopic | PublishError::AllQueuesFull(_)) => {
                    break;
                }
                Err(e) => {
                    warn!(target: TARGET, id = %message_id(&bytes), error = %e, "dropped a queued message");
                    self.queued.pop_front();
                }
            }
        }
        self.shared.stats().queued = self.queued.len();
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Blobs(e)) => self.on_blob(e),
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(e)) => self.on_gossip(e),
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(target: TARGET, %address, "listening");
                self.shared.listen_addrs().push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.shared.listen_addrs().retain(|a| *a != address);
            }
            SwarmEvent::ListenerClosed { reason, .. } => {
                warn!(target: TARGET, ?reason, "listener closed");
            }
            SwarmEvent::ListenerError { error, .. } => {
                warn!(target: TARGET, %error, "listener error");
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                debug!(target: TARGET, peer = %peer_id, addr = %endpoint.get_remote_address(), "connected");
                if let Some(i) = self.dialling.remove(&connection_id)
                    && let Some(dial) = self.dials.get_mut(i)
                {
                    dial.peer = Some(peer_id);
                    dial.backoff = FIRST_REDIAL;
                    dial.due = None;
                }
                if matches!(endpoint, ConnectedPoint::Dialer { .. }) {
                    info!(target: TARGET, peer = %peer_id, "dialled peer connected");
                }
                self.shared.stats().connected_peers = self.swarm.connected_peers().count();
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                debug!(target: TARGET, peer = %peer_id, ?cause, "connection closed");
                if num_established == 0 {
                    let now = Instant::now();
                    for dial in self.dials.iter_mut().filter(|d| d.peer == Some(peer_id)) {
                        info!(target: TARGET, peer = %peer_id, addr = %dial.addr, after = ?dial.backoff, "lost a configured peer: re-dialling");
                        dial.due = Some(now + dial.backoff);
                    }
                }
                self.shared.stats().connected_peers = self.swarm.connected_peers().count();
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                if let Some(i) = self.dialling.remove(&connection_id) {
                    self.retry_later(i, &error.to_string());
                }
            }
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => self.on_message(propagation_source, message_id, message),
            gossipsub::Event::Subscribed { peer_id, topic } => {
                debug!(target: TARGET, peer = %peer_id, %topic, "peer subscribed");
                if topic == self.topic.hash() {
                    self.flush_queue();
                }
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                warn!(target: TARGET, peer = %peer_id, "peer does not speak gossipsub");
            }
            gossipsub::Event::SlowPeer { peer_id, .. } => {
                debug!(target: TARGET, peer = %peer_id, "slow peer: messages to it were dropped");
            }
            _ => {}
        }
    }

    /// A peer asks for a blob (looked up on the blocking pool, answered when found), or answers
    /// ours (checked against the hash asked for before anyone sees it).
    fn on_blob(&mut self, event: request_response::Event<[u8; 32], Option<Vec<u8>>>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let source = self.blob_source.clone();
                let serves = self.serves.clone();
                let served = self.served_tx.clone();
                tokio::spawn(async move {
                    // A busy node makes the asker wait its turn rather than answer "not held",
                    // which would make an honest asker drop an honest message.
                    let permit = tokio::time::timeout(BLOB_TIMEOUT, serves.acquire_owned()).await;
                    let answer = match (source, permit) {
                        (Some(source), Ok(Ok(permit))) => tokio::task::spawn_blocking(move || {
                            let _permit = permit;
                            (source.0)(&request)
                        })
                        .await
                        .ok()
                        .flatten(),
                        _ => None,
                    };
                    debug!(target: TARGET, %peer, held = answer.is_some(), "blob asked for");
                    let _ = served.send((channel, answer)).await;
                });
            }
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some(fetch) = self.asked.remove(&request_id) else {
                    return;
                };
                // The hash is checked by the asker, off this task (16 MiB take tens of ms).
                let answer = match response {
                    None => Err(anyhow!("{peer} does not hold the blob")),
                    Some(bytes) => {
                        self.shared.stats().blobs_fetched += 1;
                        Ok(bytes)
                    }
                };
                let _ = fetch.reply.send(answer);
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(fetch) = self.asked.remove(&request_id) {
                    let _ = fetch
                        .reply
                        .send(Err(anyhow!("asking {peer} for a blob: {error}")));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(target: TARGET, %peer, %error, "a blob request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn retry_later(&mut self, i: usize, error: &str) {
        if let Some(dial) = self.dials.get_mut(i) {
            warn!(target: TARGET, addr = %dial.addr, error, retry_in = ?dial.backoff, "dial failed");
            dial.due = Some(Instant::now() + dial.backoff);
            dial.backoff = (dial.backoff * 2).min(MAX_REDIAL);
        }
    }

    fn dial_due(&mut self, now: Instant) {
        for i in 0..self.dials.len() {
            let Some(dial) = self.dials.get_mut(i) else {
                continue;
            };
            if dial.due.is_none_or(|due| due > now) {
                continue;
            }
            dial.due = None;
            if dial.peer.is_some_and(|p| self.swarm.is_connected(&p)) {
                continue;
            }
            let opts = DialOpts::from(dial.addr.clone());
            let connection_id = opts.connection_id();
            debug!(target: TARGET, addr = %dial.addr, "dialling");
            match self.swarm.dial(opts) {
                Ok(()) => {
                    self.dialling.insert(connection_id, i);
                }
                Err(e) => self.retry_later(i, &e.to_string()),
            }
        }
    }

    fn on_message(&mut self, from: PeerId, id: MessageId, message: gossipsub::Message) {
        self.shared.stats().received += 1;
        let gossip = &mut self.swarm.behaviour_mut().gossip;
        if message.data.len() > self.max_message_bytes {
            debug!(target: TARGET, peer = %from, %id, bytes = message.data.len(), "oversized message rejected");
            gossip.report_message_validation_result(&id, &from, MessageAcceptance::Reject);
            self.shared.stats().oversized += 1;
            return;
        }
        if !self.limiter.admit(from, Instant::now()) {
            debug!(target: TARGET, peer = %from, %id, "over its rate: ignored");
            gossip.report_message_validation_result(&id, &from, MessageAcceptance::Ignore);
            self.shared.stats().rate_limited += 1;
            return;
        }
        let Ok(permit) = self.validations.clone().try_acquire_owned() else {
            debug!(target: TARGET, peer = %from, %id, "too many validations running: ignored");
            gossip.report_message_validation_result(&id, &from, MessageAcceptance::Ignore);
            self.shared.stats().busy += 1;
            return;
        };
        let validator = self.validator.clone();
        let verdicts = self.verdict_tx.clone();
        let accepted = self.accepted.clone();
        let deadline = self.validation_deadline;
        let origin = message.source;
        let data = message.data;
        let mut peers = vec![from];
        if let Some(author) = origin.filter(|a| *a != from) {
            peers.push(author);
        }
        // Fetches end a third of the deadline early, leaving that for the check itself.
        let fetcher = Fetcher {
            peers,
            tx: self.fetch_tx.clone(),
            handle: tokio::runtime::Handle::current(),
            deadline: tokio::time::Instant::now() + deadline * 2 / 3,
        };
        tokio::spawn(async move {
            let run = tokio::task::spawn_blocking(move || {
                // Held by the thread, so a validation that outlives its deadline still counts.
                let _permit = permit;
                let validation = validator(&data, &fetcher);
                (validation, data)
            });
            let (validation, data) = match tokio::time::timeout(deadline, run).await {
                Ok(Ok(answer)) => (answer.0, Some(answer.1)),
                Ok(Err(e)) => (
                    Validation::Ignore(format!("the validator failed: {e}")),
                    None,
                ),
                Err(_) => (
                    Validation::Ignore(format!("the validator did not answer in {deadline:?}")),
                    None,
                ),
            };
            let accept = validation == Validation::Accept;
            // The verdict first, so relay does not wait for our own consumer.
            if verdicts
                .send(Verdict {
                    id: id.clone(),
                    from,
                    validation,
                })
                .await
                .is_err()
            {
                return;
            }
            if let (true, Some(data)) = (accept, data) {
                let received = Received {
                    id: keccak256(&data).0,
                    from,
                    origin,
                    data,
                };
                if accepted
                    .send_timeout(received, DELIVER_TIMEOUT)
                    .await
                    .is_err()
                {
                    warn!(target: TARGET, %id, "the accepted queue is full or closed: a valid message was not handed over");
                }
            }
        });
    }

    fn report(&mut self, verdict: Verdict) {
        let Verdict {
            id,
            from,
            validation,
        } = verdict;
        let acceptance = match &validation {
            Validation::Accept => {
                debug!(target: TARGET, peer = %from, %id, "accepted");
                self.shared.stats().accepted += 1;
                MessageAcceptance::Accept
            }
            Validation::Ignore(why) => {
                debug!(target: TARGET, peer = %from, %id, why, "ignored");
                self.shared.stats().ignored += 1;
                MessageAcceptance::Ignore
            }
            Validation::Reject(why) => {
                info!(target: TARGET, peer = %from, %id, why, "rejected: the peer is penalised");
                self.shared.stats().rejected += 1;
                MessageAcceptance::Reject
            }
        };
        if !self
            .swarm
            .behaviour_mut()
            .gossip
            .report_message_validation_result(&id, &from, acceptance)
        {
            debug!(target: TARGET, %id, "verdict came after the message left the cache");
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.dial_due(now);
        if !self.queued.is_empty() {
            self.flush_queue();
        }
        self.limiter.prune(now);
        let gossip = &self.swarm.behaviour().gossip;
        let mesh_peers = gossip.mesh_peers(&self.topic.hash()).count();
        let peers = self
            .swarm
            .connected_peers()
            .map(|peer| {
                let score = gossip.peer_score(peer).unwrap_or(0.0);
                let stats = PeerStats {
                    score,
                    graylisted: score < self.graylist_threshold,
                };
                (*peer, stats)
            })
            .collect();
        let mut stats = self.shared.stats();
        stats.connected_peers = self.swarm.connected_peers().count();
        stats.mesh_peers = mesh_peers;
        stats.peers = peers;
    }
}
