//! Gossip between rangers: a libp2p gossipsub node that spreads opaque messages on one topic.
//!
//! The transport knows nothing about what it carries: a message is bytes, and a validator
//! closure given to [`start`] decides whether it is accepted (relayed and handed to the caller),
//! ignored (dropped, no penalty) or rejected (dropped, and the peer that sent it loses gossipsub
//! score until it is graylisted). Every received message is held by gossipsub until the validator
//! answers (manual validation), so nothing unverified is ever relayed. Message ids are the
//! keccak-256 of the bytes, so the same bytes from two peers are one message. Messages are signed
//! by their author's libp2p key, bounded in size, and each neighbour may hand us at most
//! `rate.0` messages per `rate.1` before the rest are ignored unvalidated.
//!
//! Beside gossip, each node answers requests for blobs by hash (`blobs`): a validator that needs
//! bytes a message only names (a large witness) asks the peer that handed it the message, whose
//! own validator needed the same bytes, through its [`Fetcher`].
mod blobs;
mod limit;
mod task;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
pub use blobs::BlobSource;
pub use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

/// How long a publish waits for the swarm task to take it; the task only takes commands between
/// events, so this is long, but bounded so a stuck task shows as an error, not a hang.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// How many accepted messages wait for the caller before validation of new ones pauses.
const ACCEPTED_QUEUE: usize = 1024;

/// What a node is and whom it talks to.
#[derive(Debug, Clone)]
pub struct P2pConfig {
    /// Where to listen, e.g. `/ip4/127.0.0.1/tcp/0` (port 0: the OS picks a free one; read the
    /// real address from [`P2p::listen_addrs`]).
    pub listen: Multiaddr,
    /// Dialled at start and re-dialled with backoff (1 s doubling to 60 s) whenever lost.
    pub peers: Vec<Multiaddr>,
    /// The one gossipsub topic, e.g. `format!("ranger/reports/{chain_id}")`.
    pub topic: String,
    /// Larger messages are refused on publish and rejected on receipt.
    pub max_message_bytes: usize,
    /// At most `rate.0` messages from one neighbour per `rate.1`; the rest are ignored
    /// unvalidated (not relayed, not penalised) and counted in [`P2pStats::rate_limited`].
    /// gossipsub remembers an ignored message's id for a minute (its duplicate cache), so a copy
    /// of the same bytes from another neighbour within that minute is dropped as well.
    pub rate: (u32, Duration),
    /// The gossipsub heartbeat (mesh upkeep, gossip to non-mesh peers). A received message is
    /// kept for relay for [`HISTORY_LENGTH`] heartbeats, so the validator has that long less one
    /// heartbeat to answer.
    pub heartbeat: Duration,
    /// The node's identity; it signs every message the node publishes.
    pub keypair: libp2p::identity::Keypair,
    /// What this node answers when a peer asks for a blob by hash (none: "not held").
    pub blobs: Option<BlobSource>,
    /// The largest blob served or fetched.
    pub max_blob_bytes: usize,
}

/// Heartbeats a received message stays in gossipsub's cache awaiting its verdict (gossipsub's
/// default is 5; a longer one gives a slow validator more time before relay is lost).
pub const HISTORY_LENGTH: usize = 12;

impl P2pConfig {
    /// A config with the defaults: no peers, 256 KiB messages, 64 messages a minute per
    /// neighbour, a 1 s heartbeat.
    pub fn new(listen: Multiaddr, topic: String, keypair: libp2p::identity::Keypair) -> Self {
        Self {
            listen,
            peers: Vec::new(),
            topic,
            // A fault report carries a header or two and a transaction as evidence: tens of KiB
            // at most; 256 KiB leaves room without letting a peer make us hold megabytes.
            max_message_bytes: 256 * 1024,
            // Faults are rare; an honest neighbour relaying every report of a bad epoch stays
            // far below this.
            rate: (64, Duration::from_secs(60)),
            heartbeat: Duration::from_secs(1),
            keypair,
            blobs: None,
            max_blob_bytes: 16 << 20,
        }
    }
}

/// The validator's answer for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// Valid: relay it and hand it to the caller.
    Accept,
    /// Not worth relaying but not the sender's fault (a duplicate, a report we cannot check now).
    Ignore(String),
    /// Forged or invalid: drop it and penalise the peer that sent it.
    Reject(String),
}

/// Decides the fate of a received message. It may be slow (it re-verifies signatures and
/// evidence, and may fetch what the message names): it runs on tokio's blocking pool, never on
/// the swarm task.
pub type Validator = Arc<dyn Fn(&[u8], &Fetcher) -> Validation + Send + Sync>;

/// A blob request from a validator, handed to the swarm task.
pub(crate) struct Fetch {
    peer: PeerId,
    key: [u8; 32],
    reply: oneshot::Sender<anyhow::Result<Vec<u8>>>,
}

/// Asks for a blob by hash the peers that should hold it: the neighbour that handed us the
/// message under validation (it held the blob to validate the message itself), then the
/// message's author.
pub struct Fetcher {
    peers: Vec<PeerId>,
    tx: mpsc::Sender<Fetch>,
    handle: tokio::runtime::Handle,
    /// When the validation's answer is due, less time to check what is fetched.
    deadline: tokio::time::Instant,
}

impl Fetcher {
    /// The bytes whose keccak-256 is `key`, from the first of the peers that answers with them
    /// before the deadline; bytes that hash otherwise are refused (and the next peer asked).
    /// Blocks: call it from the validator only.
    pub fn fetch(&self, key: [u8; 32]) -> anyhow::Result<Vec<u8>> {
        let mut failures = Vec::new();
        for &peer in &self.peers {
            match self.fetch_from(peer, key) {
                Ok(bytes) if alloy_primitives::keccak256(&bytes).0 == key => return Ok(bytes),
                Ok(bytes) => failures.push(format!(
                    "{peer} answered {} bytes that are not the blob asked for",
                    bytes.len()
                )),
                Err(e) => failures.push(format!("{e:#}")),
            }
        }
        bail!("{}", failures.join("; "))
    }

    fn fetch_from(&self, peer: PeerId, key: [u8; 32]) -> anyhow::Result<Vec<u8>> {
        let (reply, answer) = oneshot::channel();
        let fetch = Fetch { peer, key, reply };
        self.handle.block_on(async {
            tokio::time::timeout_at(self.deadline, async {
                self.tx
                    .send(fetch)
                    .await
                    .map_err(|_| anyhow::anyhow!("p2p: the swarm task has stopped"))?;
                answer
                    .await
                    .map_err(|_| anyhow::anyhow!("p2p: the swarm task stopped before answering"))?
            })
            .await
            .map_err(|_| anyhow::anyhow!("{peer} gave no blob before the validation's deadline"))?
        })
    }

    /// The peers asked, in order.
    pub fn peers(&self) -> &[PeerId] {
        &self.peers
    }
}

/// A message from a peer that the validator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// keccak-256 of `data`: the gossipsub message id.
    pub id: [u8; 32],
    /// The neighbour that handed it to us.
    pub from: PeerId,
    /// The node that signed and published it.
    pub origin: Option<PeerId>,
    pub data: Vec<u8>,
}

/// Counters since start, and the state of each connected peer.
#[derive(Debug, Clone, Default)]
pub struct P2pStats {
    /// Messages gossipsub handed us: new ids only (a copy of a message already seen is dropped
    /// before this count), before any check of ours.
    pub received: u64,
    /// Messages the validator accepted (relayed and handed to [`P2p::accepted`]).
    pub accepted: u64,
    /// Messages the validator ignored, or that it did not answer in time.
    pub ignored: u64,
    /// Messages the validator rejected (their sender is penalised).
    pub rejected: u64,
    /// Messages ignored unvalidated because their sender was over its rate.
    pub rate_limited: u64,
    /// Messages over `max_message_bytes` that reached us (rejected). Messages larger than the
    /// bound plus gossipsub's envelope allowance are dropped and penalised by gossipsub before
    /// they reach this count.
    pub oversized: u64,
    /// Messages ignored unvalidated because too many validations were already running.
    pub busy: u64,
    /// Our own messages handed to gossipsub.
    pub published: u64,
    /// Our own messages waiting for a subscribed peer.
    pub queued: usize,
    /// Blobs we answered with (peers asked and we held them).
    pub blobs_served: u64,
    /// Blobs we asked for and got (checked against their hash).
    pub blobs_fetched: u64,
    pub connected_peers: usize,
    /// Peers in our mesh for the topic (those we relay to at once).
    pub mesh_peers: usize,
    /// Each connected peer's gossipsub score, refreshed every heartbeat.
    pub peers: BTreeMap<PeerId, PeerStats>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerStats {
    pub score: f64,
    /// Below the graylist threshold: every message from it is dropped unread.
    pub graylisted: bool,
}

/// A running node. Dropping it stops the swarm task and closes every connection.
pub struct P2p {
    peer_id: PeerId,
    max_message_bytes: usize,
    commands: mpsc::Sender<task::Command>,
    accepted: mpsc::Receiver<Received>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for P2p {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P2p")
            .field("peer_id", &self.peer_id)
            .finish()
    }
}

/// What the swarm task shares with the handle.
#[derive(Debug, Default)]
struct Shared {
    stats: Mutex<P2pStats>,
    listen_addrs: Mutex<Vec<Multiaddr>>,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, P2pStats> {
        // A panic elsewhere while holding the lock leaves counters, not broken invariants.
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn listen_addrs(&self) -> std::sync::MutexGuard<'_, Vec<Multiaddr>> {
        self.listen_addrs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the node: listens, subscribes to the topic, dials the peers, and returns once the
/// listener is bound (so [`P2p::listen_addrs`] holds the real port).
pub async fn start(cfg: P2pConfig, validator: Validator) -> anyhow::Result<P2p> {
    if cfg.max_message_bytes == 0 {
        bail!("p2p: max_message_bytes must be at least 1");
    }
    if cfg.rate.0 == 0 || cfg.rate.1.is_zero() {
        bail!("p2p: the rate must allow at least one message in a non-empty window");
    }
    if cfg.heartbeat.is_zero() {
        bail!("p2p: the heartbeat must be longer than zero");
    }
    let peer_id = cfg.keypair.public().to_peer_id();
    let max_message_bytes = cfg.max_message_bytes;
    let shared = Arc::new(Shared::default());
    let (commands, command_rx) = mpsc::channel(64);
    let (accepted_tx, accepted) = mpsc::channel(ACCEPTED_QUEUE);
    let mut task = task::Task::new(cfg, validator, command_rx, accepted_tx, shared.clone())?;
    task.wait_listening()
        .await
        .context("p2p: starting the listener")?;
    tokio::spawn(task.run());
    Ok(P2p {
        peer_id,
        max_message_bytes,
        commands,
        accepted,
        shared,
    })
}

impl P2p {
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The addresses the node listens on, with the port the OS picked.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.shared.listen_addrs().clone()
    }

    /// Publishes our own message (already validated by us). With no subscribed peer yet, the
    /// message is queued and published when one appears; publishing bytes already seen on the
    /// network is a no-op.
    pub async fn publish(&self, bytes: Vec<u8>) -> anyhow::Result<()> {
        if bytes.len() > self.max_message_bytes {
            bail!(
                "p2p: a message of {} bytes is over the {}-byte bound",
                bytes.len(),
                self.max_message_bytes
            );
        }
        let (reply, answer) = oneshot::channel();
        let command = task::Command::Publish { bytes, reply };
        tokio::time::timeout(COMMAND_TIMEOUT, async {
            self.commands
                .send(command)
                .await
                .map_err(|_| anyhow::anyhow!("p2p: the swarm task has stopped"))?;
            answer
                .await
                .map_err(|_| anyhow::anyhow!("p2p: the swarm task stopped before publishing"))?
        })
        .await
        .context("p2p: the swarm task did not take the message in time")?
    }

    /// Every message from a peer that the validator accepted, in the order of the verdicts.
    pub fn accepted(&mut self) -> &mut mpsc::Receiver<Received> {
        &mut self.accepted
    }

    pub fn stats(&self) -> P2pStats {
        self.shared.stats().clone()
    }
}
