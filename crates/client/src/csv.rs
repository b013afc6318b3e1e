//! A small RFC 4180 reader for contact imports: a header row (name, number/phone, then
//! attribute columns), quoted fields with `""` escapes, commas and line breaks inside
//! quotes, CRLF or LF, UTF-8 with or without a BOM. Excel in many locales (Russian,
//! German...) saves with `;`, so the delimiter is whichever of `,` `;` or tab the header
//! uses most.
//!
//! Row numbers are the file's line numbers where each record starts (the header is line
//! 1), which is what a person sees in a text editor or, without embedded line breaks, in a
//! spreadsheet.

use std::collections::BTreeMap;

/// Largest file accepted (a 10,000-row contact list is far smaller).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows in one import (the relay's limit too).
pub const MAX_ROWS: usize = 10_000;

/// Header names read as the contact's name (compared lower-cased and trimmed).
const NAME_HEADERS: &[&str] = &[
    "name",
    "full name",
    "full_name",
    "contact",
    "contact name",
    "customer",
    "имя",
    "фио",
    "клиент",
    "姓名",
    "名字",
    "客户",
];
/// Header names read as the phone number.
const NUMBER_HEADERS: &[&str] = &[
    "number",
    "phone",
    "phone number",
    "phone_number",
    "mobile",
    "whatsapp",
    "wa_id",
    "телефон",
    "номер",
    "номер телефона",
    "电话",
    "手机",
    "手机号",
    "电话号码",
];

/// Why a whole file cannot be imported (stable codes the UI translates).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvFileError {
    #[error("the file has no header row")]
    Empty,
    #[error("no column holds the phone number (name it number or phone)")]
    NoNumberColumn,
    #[error("the column {0:?} appears twice")]
    DuplicateColumn(String),
    #[error("the file is over {} MB", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file has {0} rows; at most {MAX_ROWS} can be imported at once")]
    TooManyRows(usize),
    #[error("the file is not UTF-8 text")]
    NotUtf8,
}

impl CsvFileError {
    pub fn code(&self) -> &'static str {
        match self {
            CsvFileError::Empty => "csv_empty",
            CsvFileError::NoNumberColumn => "csv_no_number_column",
            CsvFileError::DuplicateColumn(_) => "csv_duplicate_column",
            CsvFileError::TooLarge => "csv_too_large",
            CsvFileError::TooManyRows(_) => "csv_too_many_rows",
            CsvFileError::NotUtf8 => "csv_not_utf8",
        }
    }
}

/// One data row, cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub row: u32,
    pub name: String,
    pub number: String,
    /// Attribute column key → cell text (empty cells included: the relay skips them).
    pub attributes: BTreeMap<String, String>,
}

/// A row the reader itself could not read (`unterminated_quote`, `too_many_fields`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRowError {
    pub row: u32,
    pub code: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCsv {
    /// Attribute column keys, in file order.
    pub attribute_columns: Vec<String>,
    pub rows: Vec<CsvRow>,
    pub errors: Vec<CsvRowError>,
}

/// Reads a file's bytes (checks size and UTF-8 first).
pub fn parse_bytes(bytes: &[u8]) -> Result<ParsedCsv, CsvFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvFileError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CsvFileError::NotUtf8)?;
    parse(text)
}

/// An attribute key from a header: lower-case, every run of other characters (spaces,
/// dashes, brackets) as one `_` ("Monthly spend (USD)" → `monthly_spend_usd`).
pub fn column_key(header: &str) -> String {
    let mut key = String::with_capacity(header.len());
    for c in header.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    while key.ends_with('_') {
        key.pop();
    }
    key
}

struct Record {
    line: u32,
    fields: Vec<String>,
    unterminated: bool,
}

fn delimiter(text: &str) -> char {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [(',', 0usize), (';', 0), ('\t', 0)];
    let mut quoted = false;
    for c in header.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == c {
                    *n += 1;
                }
            }
        }
    }
    // Ties keep the first (comma).
    counts
        .iter()
        .fold(
            (',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

fn records(text: &str, delim: char) -> Vec<Record> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line: u32 = 1;
    let mut field = String::new();
    let mut fields = Vec::new();
    let mut start = 1;
    let mut quoted = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            c if c == delim => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                fields.push(std::mem::take(&mut field));
                out.push(Record {
                    line: start,
                    fields: std::mem::take(&mut fields),
                    unterminated: false,
                });
                line += 1;
                start = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted || !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        out.push(Record {
            line: start,
            fields,
            unterminated: quoted,
        });
    }
    out
}

/// Reads CSV text into rows for the relay, with per-row reading errors.
pub fn parse(text: &str) -> Result<ParsedCsv, CsvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let delim = delimiter(text);
    let mut recs = records(text, delim)
        .into_iter()
        .filter(|r| r.unterminated || r.fields.iter().any(|f| !f.trim().is_empty()));
    let header = recs.next().ok_or(CsvFileError::Empty)?;
    let keys: Vec<String> = header.fields.iter().map(|h| column_key(h)).collect();
    let mut seen = std::collections::HashSet::new();
    for k in &keys {
        if !k.is_empty() && !seen.insert(k.as_str()) {
            return Err(CsvFileError::DuplicateColumn(k.clone()));
        }
    }
    let lookup = |names: &[&str]| {
        keys.iter()
            .position(|k| names.iter().any(|n| k == n || *k == n.replace(' ', "_")))
    };
    let number_col = lookup(NUMBER_HEADERS).ok_or(CsvFileError::NoNumberColumn)?;
    let name_col = lookup(NAME_HEADERS);
    let attribute_cols: Vec<(usize, String)> = keys
        .iter()
        .enumerate()
        .filter(|(i, k)| *i != number_col && Some(*i) != name_col && !k.is_empty())
        .map(|(i, k)| (i, k.clone()))
        .collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for r in recs {
        if rows.len() + errors.len() >= MAX_ROWS {
            let extra = 1 + rows.len() + errors.len();
            return Err(CsvFileError::TooManyRows(extra.max(MAX_ROWS + 1)));
        }
        if r.unterminated {
            errors.push(CsvRowError {
                row: r.line,
                code: "unterminated_quote",
            });
            continue;
        }
        if r.fields.len() > keys.len()
            && r.fields[keys.len()..].iter().any(|f| !f.trim().is_empty())
        {
            errors.push(CsvRowError {
                row: r.line,
                code: "too_many_fields",
            });
            continue;
        }
        let cell = |i: usize| r.fields.get(i).map_or("", |s| s.trim()).to_owned();
        rows.push(CsvRow {
            row: r.line,
            name: name_col.map(cell).unwrap_or_default(),
            number: cell(number_col),
            attributes: attribute_cols
                .iter()
                .map(|(i, k)| (k.clone(), cell(*i)))
                .collect(),
        });
    }
    Ok(ParsedCsv {
        attribute_columns: attribute_cols.into_iter().map(|(_, k)| k).collect(),
        rows,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_bom_crlf_and_scripts() {
        let text = "\u{feff}Name,Phone,Monthly spend (USD),VIP\r\n\
                    \"Smith, John\",+1 415 555 0100,600,yes\r\n\
                    Анна Петрова,+7 912 345-67-89,\"1 200\",да\r\n\
                    王伟,8613800138000,,\r\n\
                    \"She said \"\"hi\"\"\nand left\",14155550101,5,no\r\n";
        let p = parse(text).unwrap();
        assert_eq!(p.attribute_columns, ["monthly_spend_usd", "vip"]);
        assert!(p.errors.is_empty());
        assert_eq!(p.rows.len(), 4);
        assert_eq!(p.rows[0].name, "Smith, John");
        assert_eq!(p.rows[0].row, 2);
        assert_eq!(p.rows[1].name, "Анна Петрова");
        assert_eq!(p.rows[1].attributes["monthly_spend_usd"], "1 200");
        assert_eq!(p.rows[2].name, "王伟");
        assert_eq!(p.rows[2].attributes["vip"], "");
        assert_eq!(p.rows[3].name, "She said \"hi\"\nand left");
        assert_eq!(p.rows[3].row, 5);
    }

    #[test]
    fn semicolons_and_localized_headers() {
        let text = "Имя;Телефон;city\nИван;79001234567;Казань\n\n";
        let p = parse(text).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].number, "79001234567");
        assert_eq!(p.rows[0].attributes["city"], "Казань");
        let p = parse("姓名,手机号\n李娜,8613900139000\n").unwrap();
        assert_eq!(p.rows[0].name, "李娜");
    }

    #[test]
    fn row_and_file_errors() {
        let p = parse("name,number\nA,1,extra\nB,2\n\"C,3\n").unwrap();
        assert_eq!(
            p.errors,
            [
                CsvRowError {
                    row: 2,
                    code: "too_many_fields"
                },
                CsvRowError {
                    row: 4,
                    code: "unterminated_quote"
                }
            ]
        );
        assert_eq!(p.rows.len(), 1);
        assert_eq!(parse("name,city\nA,B\n"), Err(CsvFileError::NoNumberColumn));
        assert_eq!(parse("\u{feff}\n\n"), Err(CsvFileError::Empty));
        assert_eq!(
            parse("phone,City,city\n"),
            Err(CsvFileError::DuplicateColumn("city".into()))
        );
        assert_eq!(parse_bytes(&[0x66, 0xff, 0xfe]), Err(CsvFileError::NotUtf8));
        let big = format!("phone\n{}", "1\n".repeat(MAX_ROWS + 1));
        assert!(matches!(parse(&big), Err(CsvFileError::TooManyRows(_))));
        assert_eq!(
            parse_bytes(&vec![b'a'; MAX_FILE_BYTES + 1]),
            Err(CsvFileError::TooLarge)
        );
    }
}
