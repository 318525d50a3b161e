//! The order in which a status list hands out its slots: a keyed permutation of `0..size`, so
//! that a credential's `statusListIndex` says nothing about when it was issued nor how many
//! were issued before it (Bitstring Status List §6.1 « Herd Privacy »: the index SHOULD be
//! chosen at random). Each list has its own 128-bit key; the n-th slot handed out is
//! `permute(n)`, and `unpermute` tells which turn an index was, so that "was this slot handed
//! out?" stays one comparison with the list's counter. A four-round Feistel network over the
//! smallest even number of bits that holds `size`, walked again while it lands past `size`
//! (cycle walking: a bijection of `0..size`, each step leaving at most a quarter of the domain).

use sha2::{Digest, Sha256};

/// A list's permutation key.
pub type ShuffleKey = [u8; 16];

const ROUNDS: u8 = 4;

/// A new random key, for a list being opened.
pub fn new_key() -> ShuffleKey {
    let mut key = [0u8; 16];
    getrandom::getrandom(&mut key).expect("the operating system's random source is available");
    key
}

/// Bits of each Feistel half for a list of `size` entries.
fn half_bits(size: u32) -> u32 {
    let bits = (32 - size.saturating_sub(1).leading_zeros()).max(2);
    bits.div_ceil(2)
}

fn round(key: &ShuffleKey, r: u8, half: u32, bits: u32) -> u32 {
    let digest = Sha256::new()
        .chain_update(key)
        .chain_update([r])
        .chain_update(half.to_le_bytes())
        .finalize();
    let value = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]);
    value & ((1u32 << bits) - 1)
}

fn encrypt(key: &ShuffleKey, x: u32, bits: u32) -> u32 {
    let mask = (1u32 << bits) - 1;
    let (mut left, mut right) = (x >> bits, x & mask);
    for r in 0..ROUNDS {
        (left, right) = (right, left ^ round(key, r, right, bits));
    }
    (left << bits) | right
}

fn decrypt(key: &ShuffleKey, y: u32, bits: u32) -> u32 {
    let mask = (1u32 << bits) - 1;
    let (mut left, mut right) = (y >> bits, y & mask);
    for r in (0..ROUNDS).rev() {
        (left, right) = (right ^ round(key, r, left, bits), left);
    }
    (left << bits) | right
}

/// The index of the `turn`-th slot handed out (`turn < size`).
pub fn permute(key: &ShuffleKey, size: u32, turn: u32) -> u32 {
    let bits = half_bits(size);
    let mut y = encrypt(key, turn, bits);
    while y >= size {
        y = encrypt(key, y, bits);
    }
    y
}

/// Which turn handed out `index` (`index < size`): the inverse of [`permute`].
pub fn unpermute(key: &ShuffleKey, size: u32, index: u32) -> u32 {
    let bits = half_bits(size);
    let mut x = decrypt(key, index, bits);
    while x >= size {
        x = decrypt(key, x, bits);
    }
    x
}

/// The key as stored (hex), and back.
pub fn key_to_hex(key: &ShuffleKey) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn key_from_hex(text: &str) -> Option<ShuffleKey> {
    if text.len() != 32 || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; 16];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_gets_a_permutation_and_its_inverse() {
        let key = new_key();
        for size in [1u32, 2, 3, 4, 5, 7, 64, 100, 1000, 4096, 5000] {
            let mut seen = vec![false; size as usize];
            for turn in 0..size {
                let index = permute(&key, size, turn);
                assert!(index < size, "size {size}: {index}");
                assert!(!seen[index as usize], "size {size}: {index} twice");
                seen[index as usize] = true;
                assert_eq!(unpermute(&key, size, index), turn);
            }
        }
    }

    #[test]
    fn the_default_size_is_permuted_and_the_order_does_not_show_the_turn() {
        let (key, size) = (new_key(), 131_072);
        let first: Vec<u32> = (0..16).map(|t| permute(&key, size, t)).collect();
        assert!(
            first.windows(2).filter(|w| w[0] < w[1]).count() < 15,
            "{first:?}"
        );
        for turn in [0, 1, 65_535, 131_071] {
            assert_eq!(unpermute(&key, size, permute(&key, size, turn)), turn);
        }
        let other = new_key();
        let again: Vec<u32> = (0..16).map(|t| permute(&other, size, t)).collect();
        assert_ne!(first, again, "each list has its own order");
    }

    #[test]
    fn keys_are_stored_as_hex() {
        let key = new_key();
        assert_eq!(key_from_hex(&key_to_hex(&key)), Some(key));
        assert_eq!(key_from_hex("zz"), None);
        assert_eq!(key_from_hex(&"é".repeat(16)), None);
    }
}
