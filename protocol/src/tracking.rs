//! Citizen tracking codes: 8 characters from an alphabet without 0/O/1/I/L, so a code read
//! aloud or copied from paper is not mistyped.

/// The 31 characters a tracking code is made of.
pub const TRACKING_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const TRACKING_CODE_LEN: usize = 8;

/// Makes a code from 8 random bytes (the caller brings the randomness: no I/O here).
pub fn tracking_code_from_bytes(random: [u8; TRACKING_CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| TRACKING_ALPHABET[(*b as usize) % TRACKING_ALPHABET.len()] as char)
        .collect()
}

/// Normalises what a citizen typed (case, spaces, dashes) and checks the alphabet.
pub fn normalize_tracking_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        code.len() == TRACKING_CODE_LEN && code.bytes().all(|b| TRACKING_ALPHABET.contains(&b));
    valid.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_avoid_ambiguous_characters() {
        let code = tracking_code_from_bytes([0, 7, 30, 31, 200, 255, 99, 14]);
        assert_eq!(code.len(), 8);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(
            normalize_tracking_code(&code.to_lowercase()),
            Some(code.clone())
        );
        assert_eq!(
            normalize_tracking_code("ABCD-EFGH"),
            Some("ABCDEFGH".into())
        );
        assert_eq!(normalize_tracking_code("ABCDEFG0"), None);
        assert_eq!(normalize_tracking_code("ABC"), None);
    }
}
