//! What a ranger serves over the network: Kaia's JSON-RPC for a kept chain (`kaia`).

pub mod kaia;
