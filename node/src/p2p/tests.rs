//! Nodes on real loopback sockets (ports picked by the OS), three in a line a–b–c: relay through
//! the middle, rejection and its penalty, duplicates, flooding, size bounds. Every wait polls a
//! condition with a generous deadline; nothing asserts on time.

use std::sync::Mutex as StdMutex;

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

/// Every message a node's validator was shown, in order.
#[derive(Clone, Default)]
struct Seen(Arc<StdMutex<Vec<Vec<u8>>>>);

impl Seen {
    fn count(&self, prefix: &[u8]) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.starts_with(prefix))
            .count()
    }
}

/// Rejects what starts with `bad`, accepts the rest, and records everything.
fn validator(seen: Seen) -> Validator {
    Arc::new(move |data: &[u8]| {
        seen.0.lock().unwrap().push(data.to_vec());
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
        let mut cfg = P2pConfig::new(
            "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
            "ranger/reports/test".into(),
            Keypair::generate_ed25519(),
        );
        cfg.peers = peers;
        cfg.heartbeat = Duration::from_millis(300);
        tweak(&mut cfg);
        let seen = Seen::default();
        let p2p = start(cfg, validator(seen.clone())).await.unwrap();
        Node { p2p, seen }
    }

    fn addr(&self) -> Multiaddr {
        self.p2p.listen_addrs()[0].clone()
    }

    fn score_of(&self, peer: &Node) -> Option<PeerStats> {
        self.p2p.stats().peers.get(&peer.p2p.peer_id()).copied()
    }

    /// Takes accepted messages until one carries `want`; returns all taken.
    async fn receive_until(&mut self, want: &[u8]) -> Vec<Received> {
        let mut taken = Vec::new();
        tokio::time::timeout(DEADLINE, async {
            while let Some(received) = self.p2p.accepted().recv().await {
                let done = received.data == want;
                taken.push(received);
                if done {
                    return;
                }
            }
            panic!("the accepted queue closed");
        })
        .await
        .unwrap_or_else(|_| panic!("{:?} never arrived", String::from_utf8_lossy(want)));
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

    let at_c = c.receive_until(b"report-1").await;
    let got = at_c.last().unwrap();
    assert_eq!(got.from, b.p2p.peer_id(), "relayed by b");
    assert_eq!(got.origin, Some(a.p2p.peer_id()), "signed by a");
    assert_eq!(got.id, alloy_primitives::keccak256(b"report-1").0);
    b.receive_until(b"report-1").await;
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
    publish_when_meshed(&a, b"twice").await;
    a.p2p.publish(b"twice".to_vec()).await.unwrap();
    // c signs its own copy (or finds the bytes already seen): still one message at b.
    c.p2p.publish(b"twice".to_vec()).await.unwrap();
    a.p2p.publish(b"mark-a".to_vec()).await.unwrap();
    c.p2p.publish(b"mark-c".to_vec()).await.unwrap();

    let mut taken = b.receive_until(b"mark-a").await;
    if !taken.iter().any(|r| r.data == b"mark-c") {
        taken.extend(b.receive_until(b"mark-c").await);
    }
    // Each copy of "twice" came before its sender's mark on the same connection, so every copy
    // b will ever see has been counted by now.
    assert_eq!(b.p2p.stats().received, 3, "twice, mark-a, mark-c");
    assert_eq!(b.seen.count(b"twice"), 1);
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
    a.receive_until(b"honest").await;

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

    // A peer that allows more sends past small's bound.
    let big = Node::start(vec![small.addr()], |cfg| cfg.max_message_bytes = 4096).await;
    publish_when_meshed(&big, b"small").await;
    // Over the bound but within gossipsub's envelope allowance: reaches small and is rejected.
    big.p2p.publish(vec![b'x'; 1500]).await.unwrap();
    // Past the allowance: gossipsub drops it before the validator and penalises the sender.
    big.p2p.publish(vec![b'y'; 2500]).await.unwrap();

    small.receive_until(b"small").await;
    wait_for("the oversized message counted", || {
        small.p2p.stats().oversized == 1
    })
    .await;
    // Two invalid messages: P₄ = −10 · 2².
    wait_for("big's score to fall by both", || {
        small.score_of(&big).is_some_and(|s| s.score < -30.0)
    })
    .await;
    assert_eq!(
        small.seen.0.lock().unwrap().clone(),
        vec![b"small".to_vec()]
    );
}
