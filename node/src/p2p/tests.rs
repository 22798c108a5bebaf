//! Nodes on real loopback sockets (ports picked by the OS), three in a line a–b–c: relay through
//! the middle, rejection and its penalty, duplicates, flooding, size bounds. Every wait polls a
//! condition with a generous deadline; nothing asserts on time.

use std::sync::{Condvar, Mutex as StdMutex};

use libp2p::identity::Keypair;

use super::*;

/// How long any condition may take on a loaded machine before the test fails.
const DEADLINE: Duration = Duration::from_secs(60);

async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < end,
            "no {what} after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every message a node's validator was shown, in order, and the gate that holds messages
/// starting with `slow` until the test opens it.
#[derive(Clone, Default)]
struct Seen {
    log: Arc<StdMutex<Vec<Vec<u8>>>>,
    gate: Arc<(StdMutex<bool>, Condvar)>,
    /// The blobs the node serves, and those its validator fetched.
    blobs: Arc<StdMutex<std::collections::HashMap<[u8; 32], Vec<u8>>>>,
}

impl Seen {
    fn count(&self, prefix: &[u8]) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.starts_with(prefix))
            .count()
    }

    fn wait_for_gate(&self) {
        let (open, opened) = &*self.gate;
        let open = open.lock().unwrap();
        // Bounded, so a failing test cannot leave a blocking thread behind forever.
        let _ = opened
            .wait_timeout_while(open, DEADLINE, |open| !*open)
            .unwrap();
    }

    fn open_gate(&self) {
        let (open, opened) = &*self.gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
}

/// Rejects what starts with `bad`, holds what starts with `slow` until the gate opens, accepts
/// `need` + a 32-byte hash once it fetched that blob (and keeps it, to serve it on), accepts the
/// rest, and records everything.
fn validator(seen: Seen) -> Validator {
    Arc::new(move |data: &[u8], fetcher: &Fetcher| {
        seen.log.lock().unwrap().push(data.to_vec());
        if data.starts_with(b"slow") {
            seen.wait_for_gate();
        }
        if let Some(key) = data.strip_prefix(b"need") {
            let key: [u8; 32] = key.try_into().unwrap();
            return match fetcher.fetch(key) {
                Ok(blob) => {
                    seen.blobs.lock().unwrap().insert(key, blob);
                    Validation::Accept
                }
                Err(e) => Validation::Ignore(e.to_string()),
            };
        }
        if data.starts_with(b"bad") {
            Validation::Reject("forged".into())
        } else {
            Validation::Accept
        }
    })
}

struct Node {
    p2p: P2p,
    seen: Seen,
}

impl Node {
    async fn start(peers: Vec<Multiaddr>, tweak: impl FnOnce(&mut P2pConfig)) -> Node {
        Self::try_start(peers, tweak).await.unwrap()
    }

    async fn try_start(
        peers: Vec<Multiaddr>,
        tweak: impl FnOnce(&mut P2pConfig),
    ) -> anyhow::Result<Node> {
        let mut cfg = P2pConfig::new(
            "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
            "ranger/reports/test".into(),
            Keypair::generate_ed25519(),
        );
        cfg.peers = peers;
        cfg.heartbeat = Duration::from_millis(300);
        let seen = Seen::default();
        let blobs = seen.blobs.clone();
        cfg.blobs = Some(BlobSource(Arc::new(move |key: &[u8; 32]| {
            blobs.lock().unwrap().get(key).cloned()
        })));
        tweak(&mut cfg);
        let p2p = start(cfg, validator(seen.clone())).await?;
        Ok(Node { p2p, seen })
    }

    fn addr(&self) -> Multiaddr {
        self.p2p.listen_addrs()[0].clone()
    }

    fn score_of(&self, peer: &Node) -> Option<PeerStats> {
        self.p2p.stats().peers.get(&peer.p2p.peer_id()).copied()
    }

    /// Takes accepted messages until each of `want` has come (in any order: verdicts run
    /// concurrently); returns all taken.
    async fn receive_all(&mut self, want: &[&[u8]]) -> Vec<Received> {
        let mut taken: Vec<Received> = Vec::new();
        let missing = |taken: &[Received]| {
            want.iter()
                .filter(|w| !taken.iter().any(|r| r.data == **w))
                .map(|w| String::from_utf8_lossy(&w[..w.len().min(16)]).into_owned())
                .collect::<Vec<_>>()
        };
        let done = tokio::time::timeout(DEADLINE, async {
            while !missing(&taken).is_empty() {
                match self.p2p.accepted().recv().await {
                    Some(received) => taken.push(received),
                    None => panic!("the accepted queue closed"),
                }
            }
        })
        .await;
        assert!(done.is_ok(), "never arrived: {:?}", missing(&taken));
        taken
    }
}

/// b, then c dialling b (and in b's mesh), then a dialling b; a's first publish may still find
/// no peer.
async fn line(tweak: fn(&mut P2pConfig)) -> (Node, Node, Node) {
    let b = Node::start(vec![], tweak).await;
    let c = Node::start(vec![b.addr()], tweak).await;
    wait_for("mesh between b and c", || {
        b.p2p.stats().mesh_peers == 1 && c.p2p.stats().mesh_peers == 1
    })
    .await;
    let a = Node::start(vec![b.addr()], tweak).await;
    (a, b, c)
}

async fn publish_when_meshed(node: &Node, bytes: &[u8]) {
    wait_for("mesh peer", || node.p2p.stats().mesh_peers >= 1).await;
    node.p2p.publish(bytes.to_vec()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_the_far_end_through_the_middle() {
    let (a, mut b, mut c) = line(|_| {}).await;
    // Published before a has any peer: queued, then sent when b subscribes.
    a.p2p.publish(b"report-1".to_vec()).await.unwrap();

    let at_c = c.receive_all(&[b"report-1"]).await;
    let got = at_c.iter().find(|r| r.data == b"report-1").unwrap();
    assert_eq!(got.from, b.p2p.peer_id(), "relayed by b");
    assert_eq!(got.origin, Some(a.p2p.peer_id()), "signed by a");
    assert_eq!(got.id, alloy_primitives::keccak256(b"report-1").0);
    b.receive_all(&[b"report-1"]).await;
    assert_eq!(b.seen.count(b"report-1"), 1);
    assert_eq!(c.seen.count(b"report-1"), 1);
    wait_for("the queue to empty", || a.p2p.stats().queued == 0).await;
    assert_eq!(a.p2p.stats().published, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_message_is_not_relayed_and_its_sender_is_graylisted() {
    let (a, b, c) = line(|_| {}).await;
    publish_when_meshed(&a, b"bad-0").await;
    wait_for("a's score at b to drop", || {
        b.p2p.stats().rejected >= 1 && b.score_of(&a).is_some_and(|s| s.score < 0.0)
    })
    .await;
    for i in 1..8 {
        a.p2p
            .publish(format!("bad-{i}").into_bytes())
            .await
            .unwrap();
    }
    wait_for("a graylisted at b", || {
        b.score_of(&a).is_some_and(|s| s.graylisted)
    })
    .await;
    // b decides before it relays, so what it rejected never left it.
    assert_eq!(c.seen.count(b"bad"), 0);
    assert_eq!(c.p2p.stats().accepted, 0);
    assert_eq!(b.p2p.stats().accepted, 0);
    assert!(b.score_of(&c).is_some_and(|s| !s.graylisted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_are_one_message() {
    let (a, mut b, c) = line(|_| {}).await;
    // c signs and sends the bytes first; a's copy, signed by a, is the same message to b.
    c.p2p.publish(b"twice".to_vec()).await.unwrap();
    wait_for("c's copy at b", || b.p2p.stats().received == 1).await;
    publish_when_meshed(&a, b"twice").await;
    a.p2p.publish(b"twice".to_vec()).await.unwrap();
    a.p2p.publish(b"mark-a".to_vec()).await.unwrap();
    c.p2p.publish(b"mark-c".to_vec()).await.unwrap();

    let taken = b.receive_all(&[b"mark-a", b"mark-c"]).await;
    // Each copy of "twice" came before its sender's mark on the same connection, so every copy
    // b will ever see has been counted by now.
    assert_eq!(b.p2p.stats().received, 3, "twice, mark-a, mark-c");
    assert_eq!(b.seen.count(b"twice"), 1);
    assert_eq!(taken.iter().filter(|r| r.data == b"twice").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_bounded_and_an_honest_message_still_arrives() {
    const RATE: u32 = 20;
    const FLOOD: usize = 300;
    let (mut a, b, c) = line(|cfg| cfg.rate = (RATE, Duration::from_secs(600))).await;
    wait_for("mesh", || a.p2p.stats().mesh_peers >= 1).await;
    for i in 0..FLOOD {
        a.p2p
            .publish(format!("flood-{i}").into_bytes())
            .await
            .unwrap();
    }
    wait_for("the flood to hit b's rate limit", || {
        b.p2p.stats().rate_limited >= 1
    })
    .await;
    c.p2p.publish(b"honest".to_vec()).await.unwrap();
    a.receive_all(&[b"honest"]).await;

    let at_b = b.p2p.stats();
    assert!(
        b.seen.count(b"flood") <= RATE as usize,
        "b validated {} flood messages",
        b.seen.count(b"flood")
    );
    assert!(at_b.accepted <= u64::from(RATE) + 1, "{at_b:?}");
    assert!(
        c.seen.count(b"flood") <= RATE as usize,
        "c saw {} flood messages",
        c.seen.count(b"flood")
    );
    assert!(!b.score_of(&c).is_some_and(|s| s.graylisted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_and_dropped() {
    let mut small = Node::start(vec![], |cfg| cfg.max_message_bytes = 1024).await;
    let err = small.p2p.publish(vec![7; 1025]).await.unwrap_err();
    assert!(
        err.to_string().contains("over the 1024-byte bound"),
        "{err}"
    );
    assert_eq!(small.p2p.stats().published, 0);
    assert_eq!(small.p2p.stats().queued, 0);

    // A peer that allows more sends past small's bound. It signs with a secp256k1 key (the
    // longest signature and key libp2p carries), so a message of exactly the bound must still fit.
    let big = Node::start(vec![small.addr()], |cfg| {
        cfg.max_message_bytes = 4096;
        cfg.keypair = Keypair::generate_secp256k1();
    })
    .await;
    publish_when_meshed(&big, b"small").await;
    big.p2p.publish(vec![b'z'; 1024]).await.unwrap();
    // Over the bound but within gossipsub's envelope allowance: reaches small and is rejected.
    big.p2p.publish(vec![b'x'; 1500]).await.unwrap();
    // Past the allowance: gossipsub drops it before the validator and penalises the sender.
    big.p2p.publish(vec![b'y'; 2500]).await.unwrap();

    small.receive_all(&[b"small", &[b'z'; 1024]]).await;
    wait_for("the oversized message counted", || {
        small.p2p.stats().oversized == 1
    })
    .await;
    // Two invalid messages: P₄ = −10 · 2².
    wait_for("big's score to fall by both", || {
        small.score_of(&big).is_some_and(|s| s.score < -30.0)
    })
    .await;
    // The validator saw only what fits: "small" and the 1024 bytes.
    let mut seen: Vec<usize> = small
        .seen
        .log
        .lock()
        .unwrap()
        .iter()
        .map(Vec::len)
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![5, 1024]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_peer_is_dialled_again() {
    let b = Node::start(vec![], |_| {}).await;
    let addr = b.addr();
    let mut a = Node::start(vec![addr.clone()], |_| {}).await;
    wait_for("a connected to b", || a.p2p.stats().connected_peers == 1).await;

    // b goes away; a new node comes up on the same address.
    drop(b);
    wait_for("a to notice", || a.p2p.stats().connected_peers == 0).await;
    // b's listener closes as its task ends, which may be just after a sees the connection go.
    let end = tokio::time::Instant::now() + DEADLINE;
    let mut b2 = loop {
        match Node::try_start(vec![], |cfg| cfg.listen = addr.clone()).await {
            Ok(node) => break node,
            Err(e) => assert!(tokio::time::Instant::now() < end, "{e:#}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    wait_for("a to re-dial", || {
        a.p2p.stats().peers.contains_key(&b2.p2p.peer_id())
    })
    .await;
    // And the link carries messages both ways again.
    publish_when_meshed(&a, b"after-redial").await;
    b2.receive_all(&[b"after-redial"]).await;
    publish_when_meshed(&b2, b"back").await;
    a.receive_all(&[b"back"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_that_does_not_answer_is_given_up_on() {
    let mut b = Node::start(vec![], |_| {}).await;
    let a = Node::start(vec![b.addr()], |_| {}).await;
    publish_when_meshed(&a, b"slow").await;
    a.p2p.publish(b"fast".to_vec()).await.unwrap();
    // Not held up behind the stuck validation.
    b.receive_all(&[b"fast"]).await;
    wait_for("the stuck validation to be ignored", || {
        b.p2p.stats().ignored == 1
    })
    .await;
    assert_eq!(b.p2p.stats().accepted, 1);
    b.seen.open_gate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_or_a_taken_address_is_an_error() {
    let b = Node::start(vec![], |_| {}).await;
    let config = |tweak: fn(&mut P2pConfig)| {
        let mut cfg = P2pConfig::new(
            "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
            "ranger/reports/test".into(),
            Keypair::generate_ed25519(),
        );
        tweak(&mut cfg);
        cfg
    };
    let start_err = |cfg| async { start(cfg, validator(Seen::default())).await.unwrap_err() };

    let mut taken = config(|_| {});
    taken.listen = b.addr();
    let err = start_err(taken).await;
    assert!(
        format!("{err:#}").contains(&format!("listening on {}", b.addr())),
        "{err:#}"
    );
    let err = start_err(config(|cfg| cfg.rate = (0, Duration::from_secs(1)))).await;
    assert!(err.to_string().contains("rate"), "{err}");
    let err = start_err(config(|cfg| cfg.max_message_bytes = 0)).await;
    assert!(err.to_string().contains("max_message_bytes"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_a_message_names_is_fetched_hop_by_hop_and_only_the_named_bytes_count() {
    let (a, b, mut c) = line(|_| {}).await;
    // Twelve times the message bound: it could never be gossiped.
    let blob: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let key = alloy_primitives::keccak256(&blob).0;
    a.seen.blobs.lock().unwrap().insert(key, blob.clone());
    let mut named = b"need".to_vec();
    named.extend_from_slice(&key);
    publish_when_meshed(&a, &named).await;
    c.receive_all(&[&named]).await;
    // c fetched it from b, which had fetched it from a.
    assert_eq!(c.seen.blobs.lock().unwrap().get(&key), Some(&blob));
    assert_eq!(b.seen.blobs.lock().unwrap().get(&key), Some(&blob));
    assert!(b.p2p.stats().blobs_served >= 1 && b.p2p.stats().blobs_fetched >= 1);

    // a answers other bytes for a hash: b refuses them, so b never accepts nor relays.
    let lie = [9u8; 32];
    a.seen
        .blobs
        .lock()
        .unwrap()
        .insert(lie, b"not the named bytes".to_vec());
    let mut lying = b"need".to_vec();
    lying.extend_from_slice(&lie);
    a.p2p.publish(lying.clone()).await.unwrap();
    // And a hash nobody holds: "not held", ignored the same way.
    let mut unheld = b"need".to_vec();
    unheld.extend_from_slice(&[3u8; 32]);
    a.p2p.publish(unheld.clone()).await.unwrap();
    wait_for("b's verdicts on both", || b.p2p.stats().ignored >= 2).await;
    assert!(!b.seen.blobs.lock().unwrap().contains_key(&lie));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        c.seen.count(&lying),
        0,
        "a message whose blob failed was relayed"
    );
    assert_eq!(c.seen.count(&unheld), 0);
}
