//! Conflict-free scheduling of a block's transactions for parallel replay.
//!
//! Invariant: if two transactions touch a common account, the earlier one (in block order) lands
//! in a strictly earlier wave. Each transaction therefore sees, for every account it touches,
//! exactly the value sequential replay would give it, so running the waves in order, each wave's
//! transactions in parallel, produces the sequential result.

use alloy_primitives::Address;
use std::collections::HashMap;

/// The accounts one transaction touches: sender, fee payer, recipient (absent ones are `None`;
/// repeats are allowed).
pub type TouchSet = [Option<Address>; 3];

/// Groups transaction indices into waves: within a wave no two transactions share an account,
/// and indices within a wave keep block order.
pub fn conflict_free_waves(touches: &[TouchSet]) -> Vec<Vec<usize>> {
    let mut last_wave: HashMap<Address, usize> = HashMap::with_capacity(touches.len() * 2);
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, set) in touches.iter().enumerate() {
        let wave = set
            .iter()
            .flatten()
            .filter_map(|a| last_wave.get(a).map(|w| w + 1))
            .max()
            .unwrap_or(0);
        for a in set.iter().flatten() {
            last_wave.insert(*a, wave);
        }
        if waves.len() <= wave {
            waves.resize_with(wave + 1, Vec::new);
        }
        waves[wave].push(i);
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> Option<Address> {
        Some(Address::repeat_byte(n))
    }

    #[test]
    fn shared_accounts_go_to_later_waves() {
        let touches = vec![
            [a(1), None, a(2)],
            [a(3), None, a(4)],
            [a(2), a(5), a(6)],
            [a(7), None, a(7)],
            [a(6), None, a(1)],
        ];
        let waves = conflict_free_waves(&touches);
        assert_eq!(waves, vec![vec![0, 1, 3], vec![2], vec![4]]);
        // Within a wave, no two transactions share an account.
        for w in &waves {
            let mut seen = std::collections::HashSet::new();
            for &i in w {
                let mine: std::collections::HashSet<Address> =
                    touches[i].iter().flatten().copied().collect();
                for x in mine {
                    assert!(seen.insert(x), "account {x} twice in one wave");
                }
            }
        }
    }
}
