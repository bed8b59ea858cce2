//! Open311 date-times: ISO 8601 with the Europe/Paris offset of the moment (`+01:00` in winter,
//! `+02:00` in summer), and civil dates (a planned intervention date) as 00:00 Europe/Paris.
//!
//! Why it exists: the store keeps instants in UTC and planned dates as plain civil dates (a French
//! city plans "le 14 juillet", not an instant). Open311 wants date-times with a time zone, so a
//! civil date becomes midnight in Paris with the offset in force that day, computed from the IANA
//! database (`chrono-tz`), never a fixed `+01:00`. Incoming date-times are read back to the Paris
//! civil date the same way, so a date survives a round trip through a back office.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Europe::Paris;

/// An instant as ISO 8601 in Europe/Paris time, e.g. `2026-01-15T11:30:00+01:00`.
pub fn iso_paris(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The instant a civil date starts in Paris (00:00 local; midnight always exists there, the
/// clocks change at 02:00/03:00, but take the earliest if a rule ever makes it ambiguous).
pub fn paris_midnight(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    match Paris.from_local_datetime(&midnight).earliest() {
        Some(local) => local.with_timezone(&Utc),
        // A gap at midnight (no such rule in Paris today): the first instant of the day is then
        // the end of the gap, one hour later at most.
        None => Paris
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map(|l| l.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc()),
    }
}

/// A civil date as Open311 `expected_datetime`: `2026-07-14T00:00:00+02:00`.
pub fn iso_paris_date(date: NaiveDate) -> String {
    iso_paris(paris_midnight(date))
}

/// The Paris civil date of an instant (what a back office means by `expected_datetime`).
pub fn paris_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Paris).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_midnight_paris_with_the_offset_of_that_day() {
        for (date, expected) in [
            ("2026-01-15", "2026-01-15T00:00:00+01:00"),
            ("2026-07-14", "2026-07-14T00:00:00+02:00"),
            // the days the clocks change (at 02:00 / 03:00): midnight still has the old offset
            ("2026-03-29", "2026-03-29T00:00:00+01:00"),
            ("2026-10-25", "2026-10-25T00:00:00+02:00"),
        ] {
            let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
            assert_eq!(iso_paris_date(d), expected, "{date}");
            assert_eq!(paris_date(paris_midnight(d)), d, "{date} round trip");
        }
    }

    #[test]
    fn instants_are_shown_in_paris_time() {
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 10, 30, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 14, 22, 30, 0).unwrap();
        assert_eq!(iso_paris(winter), "2026-01-15T11:30:00+01:00");
        assert_eq!(iso_paris(summer), "2026-07-15T00:30:00+02:00");
        assert_eq!(
            paris_date(summer),
            NaiveDate::from_ymd_opt(2026, 7, 15).unwrap()
        );
    }
}
