//! The recipient check (validator-core `VERIFY_RECIPIENT_IDENTIFIER`): does the identifier the
//! verifier was given (an email, usually) match the assertion's `recipient`? Hashes are
//! `sha256$` (via [`crate::recipient::matches`]) or legacy `md5$` (computed here: the crate has no
//! MD5 dependency, and MD5 is only ever used to read old badges).

use serde_json::Value;

use crate::verify::report::{Check, check_id as id};

/// Compares `candidate` with the assertion's recipient identity.
pub fn recipient_check(assertion: &Value, candidate: &str) -> Check {
    let recipient = assertion.get("recipient");
    let identity = recipient
        .and_then(|r| r.get("identity"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let hashed = recipient
        .and_then(|r| r.get("hashed"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let salt = recipient
        .and_then(|r| r.get("salt"))
        .and_then(Value::as_str);
    let matched = if hashed {
        hash_matches(candidate, identity, salt.unwrap_or(""))
    } else {
        identity.trim().eq_ignore_ascii_case(candidate.trim())
    };
    if matched {
        Check::pass(
            id::RECIPIENT,
            "Le badge a bien été donné à cette personne.",
            "The badge was given to this person.",
        )
    } else {
        Check::fail(
            id::RECIPIENT,
            "Le badge n'a pas été donné à cet identifiant (adresse email).",
            "The badge was not given to this identifier (email address).",
        )
        .because(crate::verify::report::reason::RECIPIENT_MISMATCH)
    }
}

fn hash_matches(candidate: &str, identity: &str, salt: &str) -> bool {
    let Some((alg, hex)) = identity.split_once('$') else {
        return false;
    };
    if alg.eq_ignore_ascii_case("md5") {
        // As typed, then normalised (emails are compared without case), like `recipient::matches`.
        [candidate.to_string(), candidate.trim().to_lowercase()]
            .iter()
            .any(|form| {
                let digest = md5(format!("{form}{salt}").as_bytes());
                crate::hex::hex(&digest).eq_ignore_ascii_case(hex)
            })
    } else {
        crate::recipient::matches(candidate, identity, Some(salt))
    }
}

/// MD5 (RFC 1321), for legacy `md5$` identity hashes only.
pub fn md5(input: &[u8]) -> [u8; 16] {
    const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    // K[i] = floor(|sin(i + 1)| · 2^32), as the RFC defines the table.
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut message = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in message.chunks_exact(64) {
        let m: Vec<u32> = chunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(SHIFTS[(i / 16) * 4 + i % 4]));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (i, s) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::hex;
    use crate::verify::report::Status;
    use serde_json::json;

    #[test]
    fn md5_rfc_1321_vectors() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(&md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn sha256_md5_and_plain_identities() {
        // 1EdTech samples: sha256("nobody@example.org" + "deadsea").
        let a = |identity: &str, hashed: bool| json!({"recipient": {"type": "email", "hashed": hashed, "salt": "deadsea", "identity": identity}});
        let sha = a(
            "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942",
            true,
        );
        assert_eq!(
            recipient_check(&sha, "nobody@example.org").status,
            Status::Pass
        );
        assert_eq!(
            recipient_check(&sha, "other@example.com").status,
            Status::Fail
        );
        let md = format!("md5${}", hex(&md5(b"test@example.comdeadsea")));
        assert_eq!(
            recipient_check(&a(&md, true), "Test@Example.com").status,
            Status::Pass
        );
        assert_eq!(
            recipient_check(&a("test@example.com", false), "TEST@example.com").status,
            Status::Pass
        );
    }
}
