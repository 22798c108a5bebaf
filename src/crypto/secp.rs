//! secp256k1 public-key recovery to 20-byte addresses, through libsecp256k1 (`secp256k1` crate,
//! global context). Range rules are checked here first so that every failure has a precise name;
//! what libsecp256k1 then still rejects (r not an x-coordinate, Q at infinity) is `NoPoint`.

use alloy_primitives::{Address, B256, U256};
use secp256k1::{
    Message, PublicKey, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

/// The order n of the secp256k1 group.
pub const SECP256K1_N: U256 = U256::from_be_bytes([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

/// n / 2: signatures with s above it are "high-s" and rejected for transactions (EIP-2).
pub const SECP256K1_HALF_N: U256 = U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// A recoverable signature as r || s || recovery id (0..=3), the layout of Istanbul seals.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature65(pub [u8; 65]);

impl std::fmt::Debug for Signature65 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl Signature65 {
    /// Builds a signature from r, s (big-endian 256-bit) and a recovery id.
    pub fn from_parts(r: U256, s: U256, recid: u8) -> Self {
        let mut b = [0u8; 65];
        b[..32].copy_from_slice(&r.to_be_bytes::<32>());
        b[32..64].copy_from_slice(&s.to_be_bytes::<32>());
        b[64] = recid;
        Self(b)
    }
    /// r as an integer.
    pub fn r(&self) -> U256 {
        U256::from_be_slice(&self.0[..32])
    }
    /// s as an integer.
    pub fn s(&self) -> U256 {
        U256::from_be_slice(&self.0[32..64])
    }
    /// The recovery id byte (v of a seal).
    pub fn recid(&self) -> u8 {
        self.0[64]
    }
    /// s <= n/2 (EIP-2 "homestead" rule).
    pub fn is_low_s(&self) -> bool {
        self.s() <= SECP256K1_HALF_N
    }
}

/// Why a recovery failed. Each variant names one rule of libsecp256k1's recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoverError {
    #[error("recovery id {0} is not 0 or 1")]
    BadRecoveryId(u8),
    #[error("r is zero or not below the group order n")]
    ROutOfRange,
    #[error("s is zero or not below the group order n")]
    SOutOfRange,
    #[error(
        "no public key recovers from this signature (r is not an x-coordinate, or Q is at infinity)"
    )]
    NoPoint,
}

impl RecoverError {
    /// A stable numeric code, shared with the GPU kernels' failure codes.
    pub fn code(self) -> u32 {
        match self {
            RecoverError::BadRecoveryId(_) => 1,
            RecoverError::ROutOfRange => 2,
            RecoverError::SOutOfRange => 3,
            RecoverError::NoPoint => 4,
        }
    }
}

/// One recovery job: a 32-byte message hash and a signature over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverItem {
    pub hash: B256,
    pub sig: Signature65,
}

/// Checks the range rules that libsecp256k1's recovery applies, with a precise error.
///
/// Recovery ids 2 and 3 (r ≥ n overflow case) never occur in Kaia, whose signers only produce 0/1.
pub fn check_ranges(sig: &Signature65) -> Result<(), RecoverError> {
    if sig.recid() > 1 {
        return Err(RecoverError::BadRecoveryId(sig.recid()));
    }
    let (r, s) = (sig.r(), sig.s());
    if r.is_zero() || r >= SECP256K1_N {
        return Err(RecoverError::ROutOfRange);
    }
    if s.is_zero() || s >= SECP256K1_N {
        return Err(RecoverError::SOutOfRange);
    }
    Ok(())
}

/// Recovers the public key (uncompressed, 64 bytes x || y) that signed `hash`.
pub fn recover_pubkey(hash: &B256, sig: &Signature65) -> Result<[u8; 64], RecoverError> {
    check_ranges(sig)?;
    let recid = RecoveryId::from_u8_masked(sig.recid());
    let rs = RecoverableSignature::from_compact(&sig.0[..64], recid)
        .map_err(|_| RecoverError::NoPoint)?;
    let pk = rs
        .recover_ecdsa(Message::from_digest(hash.0))
        .map_err(|_| RecoverError::NoPoint)?;
    let ser = pk.serialize_uncompressed();
    let mut out = [0u8; 64];
    out.copy_from_slice(&ser[1..]);
    Ok(out)
}

/// Recovers the address (keccak256 of the public key, last 20 bytes) that signed `hash`.
pub fn recover_address(hash: &B256, sig: &Signature65) -> Result<Address, RecoverError> {
    recover_pubkey(hash, sig).map(|pk| pubkey_to_address(&pk))
}

/// Address of an uncompressed public key given as x || y.
pub fn pubkey_to_address(pk: &[u8; 64]) -> Address {
    Address::from_slice(&super::keccak256(pk)[12..])
}

/// A secp256k1 signing key (for the devnet, tests and benchmarks).
#[derive(Clone)]
pub struct SigningKey(SecretKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.address())
    }
}

impl SigningKey {
    /// A key from 32 secret bytes; fails on zero or a value not below n.
    pub fn from_bytes(bytes: [u8; 32]) -> Option<Self> {
        SecretKey::from_secret_bytes(bytes).ok().map(Self)
    }
    /// A key derived deterministically from a seed and an index (devnet accounts, test keys).
    pub fn from_seed(seed: u64, index: u64) -> Self {
        let mut ctr = 0u64;
        loop {
            let mut buf = [0u8; 24];
            buf[..8].copy_from_slice(&seed.to_be_bytes());
            buf[8..16].copy_from_slice(&index.to_be_bytes());
            buf[16..].copy_from_slice(&ctr.to_be_bytes());
            if let Some(k) = Self::from_bytes(super::keccak256(&buf).0) {
                return k;
            }
            ctr += 1;
        }
    }
    /// The secret bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_secret_bytes()
    }
    /// The uncompressed public key, x || y.
    pub fn public_key(&self) -> [u8; 64] {
        let ser = PublicKey::from_secret_key(&self.0).serialize_uncompressed();
        let mut out = [0u8; 64];
        out.copy_from_slice(&ser[1..]);
        out
    }
    /// The account address of this key.
    pub fn address(&self) -> Address {
        pubkey_to_address(&self.public_key())
    }
    /// Signs a 32-byte hash (RFC 6979 nonce; libsecp256k1 always produces low s).
    pub fn sign(&self, hash: &B256) -> Signature65 {
        let rs =
            RecoverableSignature::sign_ecdsa_recoverable(Message::from_digest(hash.0), &self.0);
        let (recid, compact) = rs.serialize_compact();
        let mut b = [0u8; 65];
        b[..64].copy_from_slice(&compact);
        b[64] = recid.to_u8();
        Signature65(b)
    }
}

/// Turns a low-s signature into its high-s twin (s' = n - s, recovery id flipped): the same
/// signer, but invalid for transactions under EIP-2. Used by tests and fault injection.
pub fn to_high_s(sig: &Signature65) -> Signature65 {
    let s = SECP256K1_N - sig.s();
    Signature65::from_parts(sig.r(), s, sig.recid() ^ 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_recover_round_trip_and_high_s() {
        let k = SigningKey::from_seed(1, 2);
        let h = crate::crypto::keccak256(b"hello");
        let sig = k.sign(&h);
        assert!(sig.is_low_s());
        assert_eq!(recover_address(&h, &sig), Ok(k.address()));
        let high = to_high_s(&sig);
        assert!(!high.is_low_s());
        // libsecp256k1 recovers high-s too: the low-s rule is the caller's.
        assert_eq!(recover_address(&h, &high), Ok(k.address()));
    }

    #[test]
    fn range_errors_are_precise() {
        let h = B256::repeat_byte(7);
        let good = SigningKey::from_seed(1, 1).sign(&h);
        let zero_r = Signature65::from_parts(U256::ZERO, good.s(), 0);
        assert_eq!(recover_address(&h, &zero_r), Err(RecoverError::ROutOfRange));
        let big_s = Signature65::from_parts(good.r(), SECP256K1_N, 0);
        assert_eq!(recover_address(&h, &big_s), Err(RecoverError::SOutOfRange));
        let mut bad_v = good;
        bad_v.0[64] = 2;
        assert_eq!(
            recover_address(&h, &bad_v),
            Err(RecoverError::BadRecoveryId(2))
        );
        // x = 5 is not on the curve for either parity? Find an r that is not an x-coordinate.
        let mut found = false;
        for x in 1u64..50 {
            let sig = Signature65::from_parts(U256::from(x), good.s(), 0);
            if recover_address(&h, &sig) == Err(RecoverError::NoPoint) {
                found = true;
                break;
            }
        }
        assert!(found, "some small x is not on secp256k1");
    }
}
