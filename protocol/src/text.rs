//! Text folding for search: accents, case and punctuation ignored ("rue hoche" finds
//! "Rue HOCHE", "trou" finds "Nid-de-poule" through its keywords).

use unicode_normalization::UnicodeNormalization;

/// Lower-case, accents removed, every run of non-alphanumerics turned into one space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
    {
        let c = match c {
            'œ' | 'Œ' => {
                push_word(&mut out, &mut pending_space, "oe");
                continue;
            }
            'æ' | 'Æ' => {
                push_word(&mut out, &mut pending_space, "ae");
                continue;
            }
            c => c,
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

fn push_word(out: &mut String, pending_space: &mut bool, s: &str) {
    if *pending_space && !out.is_empty() {
        out.push(' ');
    }
    *pending_space = false;
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_ignores_accents_case_and_punctuation() {
        for (input, expected) in [
            ("Rue HOCHE", "rue hoche"),
            ("Nid-de-poule", "nid de poule"),
            ("Éclairage public", "eclairage public"),
            ("  Cœur  d'Œuvre ", "coeur d oeuvre"),
            ("dépôts sauvages", "depots sauvages"),
        ] {
            assert_eq!(fold(input), expected);
        }
    }
}
