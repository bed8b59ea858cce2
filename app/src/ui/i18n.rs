//! French-first UI text. Every label is written as `tx(lang, "français", "English")` at the
//! place it is shown, so the French text is what a reader of the code sees first and no key
//! table can drift out of sync with the screens.

/// The interface language. French is the default; English is offered in Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }
}

/// Picks the text for `lang`.
pub fn tx(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// Label of a status state in `lang`.
pub fn state_label(lang: Lang, state: balade_protocol::status::State) -> &'static str {
    match lang {
        Lang::Fr => state.label_fr(),
        Lang::En => state.label_en(),
    }
}

/// A date as the user reads it: `12/05/2026` in French, `2026-05-12` in English.
pub fn format_date(lang: Lang, date: chrono::NaiveDate) -> String {
    match lang {
        Lang::Fr => date.format("%d/%m/%Y").to_string(),
        Lang::En => date.format("%Y-%m-%d").to_string(),
    }
}

/// A timestamp in local time, day and minute.
pub fn format_time(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    let local = at.with_timezone(&chrono::Local);
    match lang {
        Lang::Fr => local.format("%d/%m/%Y %H:%M").to_string(),
        Lang::En => local.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// Bytes as "1,2 Mo" / "1.2 MB".
pub fn format_bytes(lang: Lang, bytes: u64) -> String {
    let (value, unit_fr, unit_en) = if bytes >= 1024 * 1024 {
        (bytes as f64 / (1024.0 * 1024.0), "Mo", "MB")
    } else {
        (bytes as f64 / 1024.0, "ko", "KB")
    };
    match lang {
        Lang::Fr => format!("{} {unit_fr}", format!("{value:.1}").replace('.', ",")),
        Lang::En => format!("{value:.1} {unit_en}"),
    }
}
