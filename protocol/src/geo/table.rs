//! Reading the referential CSV files (streets, house-number ranges, furniture) row by row, so
//! that a bad row becomes a [`RowProblem`] with its true line number and the rest still loads.
//!
//! Dialect: comma-separated, UTF-8 (a leading BOM is ignored), a header row naming the columns
//! (any order, extra columns ignored), `#` lines are comments, blank lines are skipped, fields
//! are trimmed. The whole input is read first (these files are a few MB at most) because the
//! `csv` crate reports a record after a comment or blank line at the line where the skipped
//! lines began; [`Table::line_of`] corrects that by looking at the text.

use std::io::Read;

use crate::geo::RowProblem;

/// Column positions found in a header: required ones in the order asked, optional ones too.
pub(crate) struct Columns<const N: usize, const M: usize> {
    pub required: [usize; N],
    pub optional: [Option<usize>; M],
}

/// Reads every row of a CSV table. `on_row` gets the row's line and fields and says what is
/// wrong with it, if anything. Unreadable input or a header without the required columns is
/// one problem and no rows.
pub(crate) fn for_each_row<R: Read, const N: usize, const M: usize>(
    mut reader: R,
    required: [&str; N],
    optional: [&str; M],
    mut on_row: impl FnMut(u64, &csv::StringRecord, &Columns<N, M>) -> Result<(), String>,
) -> Vec<RowProblem> {
    let mut bytes = Vec::new();
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return vec![RowProblem {
            line: 1,
            message: format!("fichier illisible : {e}"),
        }];
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|b| **b == b'\n').count() as u64;
            let message = "le fichier n'est pas en UTF-8".to_string();
            return vec![RowProblem { line, message }];
        }
    };
    let text = blank_comment_lines(text.strip_prefix('\u{feff}').unwrap_or(&text));
    let mut problems = Vec::new();
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match csv.headers() {
        Ok(headers) => headers.clone(),
        Err(e) => {
            return vec![RowProblem {
                line: 1,
                message: format!("en-tête illisible : {e}"),
            }];
        }
    };
    let header_line = headers.position().map_or(1, |p| line_of(&text, p));
    let find = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|name| find(name).is_none())
        .collect();
    if !missing.is_empty() {
        let message = format!("colonnes manquantes : {}", missing.join(", "));
        return vec![RowProblem {
            line: header_line,
            message,
        }];
    }
    let columns = Columns {
        required: required.map(|name| find(name).expect("checked above")),
        optional: optional.map(find),
    };
    for result in csv.records() {
        let (line, outcome) = match result {
            Ok(record) => {
                let line = record.position().map_or(0, |p| line_of(&text, p));
                let outcome = if record.len() != headers.len() {
                    Err(format!(
                        "{} champs au lieu de {}",
                        record.len(),
                        headers.len()
                    ))
                } else {
                    on_row(line, &record, &columns)
                };
                (line, outcome)
            }
            Err(e) => (
                e.position().map_or(0, |p| line_of(&text, p)),
                Err(format!("ligne illisible : {e}")),
            ),
        };
        if let Err(message) = outcome {
            problems.push(RowProblem { line, message });
        }
    }
    problems
}

/// Comment lines keep their line ending only, so line numbers stay true.
fn blank_comment_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with('#') {
            out.push_str(if line.ends_with("\r\n") {
                "\r\n"
            } else if line.ends_with('\n') {
                "\n"
            } else {
                ""
            });
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The line a record really starts on: `csv` gives the position before the blank lines it
/// skipped, so step over them.
fn line_of(text: &str, position: &csv::Position) -> u64 {
    let mut line = position.line();
    let mut rest = text.get(position.byte() as usize..).unwrap_or("");
    loop {
        if let Some(after) = rest.strip_prefix("\r\n") {
            rest = after;
        } else if let Some(after) = rest.strip_prefix('\n') {
            rest = after;
        } else {
            return line;
        }
        line += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> (Vec<(u64, String)>, Vec<RowProblem>) {
        let mut rows = Vec::new();
        let problems = for_each_row(text.as_bytes(), ["a"], ["b"], |line, record, columns| {
            rows.push((line, record[columns.required[0]].to_string()));
            Ok(())
        });
        (rows, problems)
    }

    #[test]
    fn line_numbers_survive_comments_and_blank_lines() {
        let (rows, problems) = lines_of("# top\na,b\n1,x\n# c\n\n2,y\r\n\r\n3,z\n4\n");
        assert_eq!(
            rows,
            vec![(3, "1".into()), (6, "2".into()), (8, "3".into())]
        );
        assert_eq!(
            problems,
            vec![RowProblem {
                line: 9,
                message: "1 champs au lieu de 2".into()
            }]
        );
        let (_, problems) = lines_of("\n# only a comment\nb\n1\n");
        assert_eq!(
            problems,
            vec![RowProblem {
                line: 3,
                message: "colonnes manquantes : a".into()
            }]
        );
        let (rows, problems) = lines_of("\u{feff}a\n1\n");
        assert_eq!((rows, problems), (vec![(2, "1".into())], vec![]));
        let problems = for_each_row(&b"a\n1\n\xff\n"[..], ["a"], [], |_, _, _| Ok(()));
        assert_eq!(problems[0].line, 3);
    }
}
