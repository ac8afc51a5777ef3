//! The options that say how to read `--data`, shared by every command
//! that reads data (`train`, `transform`, `eval`), and the loading itself.
//!
//! `--data -` reads standard input; `--data FILE.npz:NAME` one array of an
//! archive. The format is `--format`'s, else the file name's, else the
//! content's (see [`Dataset::read`]).

use super::CliError;
use crate::data::{Dataset, Format, ReadOptions, STDIN};
use std::path::{Path, PathBuf};

/// How to read `--data`.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct DataFormatArgs {
    /// Format of --data: npy, npz, csv or idx [default: from the file name,
    /// else from the content]
    #[arg(long, value_name = "FORMAT", requires = "data")]
    pub format: Option<Format>,
    /// CSV: the first row is a header, even if all its fields are numbers
    /// [default: it is one when a field is neither empty nor a number]
    #[arg(long, requires = "data")]
    pub header: bool,
    /// CSV: the field delimiter, one ASCII character ('tab' or '\t' for a
    /// tab) [default: ,]
    #[arg(long, value_name = "C", requires = "data", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
}

impl DataFormatArgs {
    /// The library's read options for these flags.
    pub(crate) fn read_options(&self, labels_last_column: bool) -> ReadOptions {
        let mut opts = ReadOptions::new()
            .with_labels_last_column(labels_last_column)
            .with_header(self.header)
            .with_delimiter(self.delimiter.unwrap_or(b','));
        if let Some(f) = self.format {
            opts = opts.with_format(f);
        }
        opts
    }
}

/// Parses `--delimiter`: one ASCII character other than a quote, a
/// newline or a carriage return; `tab` and `\t` mean a tab.
pub(crate) fn parse_delimiter(s: &str) -> Result<u8, String> {
    let c = match s {
        "tab" | "\\t" => '\t',
        _ => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => return Err("must be one character (or 'tab')".to_owned()),
            }
        }
    };
    match c {
        '"' | '\n' | '\r' => Err("cannot be a quote or a line end".to_owned()),
        c if c.is_ascii() => Ok(c as u8),
        _ => Err("must be an ASCII character".to_owned()),
    }
}

/// Where the data comes from: `--data` (or the embedded digits when it is
/// absent) and how to read it.
#[derive(Clone, Debug)]
pub(crate) struct DataInput {
    /// `--data`; `None`: the embedded digits.
    pub path: Option<PathBuf>,
    /// How to read it.
    pub read: ReadOptions,
}

impl DataInput {
    /// `--data`, `--labels-last-column` and the format flags.
    pub(crate) fn new(
        path: Option<&Path>,
        labels_last_column: bool,
        format: &DataFormatArgs,
    ) -> DataInput {
        DataInput {
            path: path.map(Path::to_owned),
            read: format.read_options(labels_last_column),
        }
    }

    /// Reads the data: the file (or standard input), or the embedded
    /// digits.
    ///
    /// # Errors
    /// [`CliError::Unreadable`] if the file cannot be read, [`CliError::Rbm`]
    /// if its contents are invalid.
    pub(crate) fn load(&self) -> Result<Dataset, CliError> {
        match &self.path {
            Some(p) => Dataset::read(p, &self.read).map_err(CliError::reading),
            None => Ok(Dataset::digits()),
        }
    }

    /// The data's name in messages: the quoted path, `standard input`, or
    /// the embedded digits.
    pub(crate) fn describe(&self) -> String {
        match &self.path {
            Some(p) if p.as_os_str() == STDIN => "standard input".to_owned(),
            Some(p) => format!("'{}'", p.display()),
            None => "the embedded UCI digits (Alpaydin & Kaynak 1998, CC BY 4.0)".to_owned(),
        }
    }

    /// The path used in data error messages.
    pub(crate) fn message_path(&self) -> &Path {
        match &self.path {
            Some(p) if p.as_os_str() == STDIN => Path::new("(standard input)"),
            Some(p) => p,
            None => Path::new("(embedded digits)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_parse() {
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("tab"), Ok(b'\t'));
        assert_eq!(parse_delimiter("\\t"), Ok(b'\t'));
        assert_eq!(parse_delimiter("\t"), Ok(b'\t'));
        assert!(parse_delimiter(",,").is_err());
        assert!(parse_delimiter("").is_err());
        assert!(parse_delimiter("\"").is_err());
        assert!(parse_delimiter("é").is_err());
    }
}
