//! Everything the command writes, and what happens when writing fails (SPEC §10: no output
//! error panics).
//!
//! - Standard output goes through [`Stdout`], whose errors are returned, never unwrapped: a
//!   reader that closed the pipe (`metastable … | head -1`) gives [`ClosedStdout`], on which
//!   `main` exits quietly with status 0; any other error (a full disk) is an error with a
//!   message and status 2.
//! - Standard error carries notes and the final message ([`note!`]). It is best effort: when
//!   it cannot be written (`2>/dev/full`) the note is dropped, and the exit status still says
//!   what happened.
//! - Files (the SVG plots) are written whole with [`write_file`], every error checked.
//! - Text that comes from a scenario or the command line (ids, names, captions, paths) is
//!   printed with control characters escaped ([`escape`]), so that a scenario cannot drive
//!   the terminal (`\u{1b}[2J` is shown as `\x1b[2J`).

use anyhow::{Context, Result};
use std::borrow::Cow;
use std::fmt::Display;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Standard output was closed by its reader (EPIPE): not an error, the command just stops.
#[derive(Debug)]
pub struct ClosedStdout;

impl Display for ClosedStdout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for ClosedStdout {}

/// Whether an error is, or was caused by, [`ClosedStdout`].
pub fn is_closed_stdout(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<ClosedStdout>())
}

/// Buffered standard output whose every error is returned.
pub struct Stdout {
    out: BufWriter<io::StdoutLock<'static>>,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout {
            out: BufWriter::with_capacity(64 << 10, io::stdout().lock()),
        }
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: impl Display) -> Result<()> {
        writeln!(self.out, "{text}").map_err(stdout_error)
    }

    /// Writes `bytes` as they are.
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(stdout_error)
    }

    /// Sends what is buffered on (after each streamed row, and at the end).
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(stdout_error)
    }
}

fn stdout_error(error: io::Error) -> anyhow::Error {
    if error.kind() == io::ErrorKind::BrokenPipe {
        anyhow::Error::new(ClosedStdout)
    } else {
        anyhow::Error::new(error).context("writing to standard output")
    }
}

/// Writes a line to standard error, its control characters (but not its line breaks)
/// escaped; a failure to write is ignored (there is nowhere left to report it).
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::output::note_text(&format!($($arg)*))
    };
}
pub(crate) use note;

pub fn note_text(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", escape_lines(text));
}

/// Writes a whole file, checking every step: a full disk or an unwritable path is an error
/// naming the file (plotters' own writer drops the error of its final flush).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let write = || -> io::Result<()> {
        let mut file = std::fs::File::create(path)?;
        file.write_all(bytes)?;
        file.flush()
    };
    write().with_context(|| format!("writing {}", escape(&path.display().to_string())))
}

/// `text` with every control character escaped: C0 controls, DEL and C1 controls as
/// `\x1b`, and the invisible bidirectional-text controls (which can reorder what a terminal
/// shows) as `\u{202e}`. Other text, including every printable non-ASCII character, is
/// unchanged.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_except(text, |_| false)
}

/// [`escape`] for a message of several lines: its line breaks are kept.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_except(text, |c| c == '\n')
}

fn escape_except(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| !keep(c) && is_terminal_control(c);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Control characters (`Cc`: C0, DEL, C1) and the bidirectional formatting characters.
fn is_terminal_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_printable_text_is_not() {
        assert_eq!(escape("api"), "api");
        assert!(matches!(escape("Ünïcode ✓ 漢字"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{1b}[31mred"), "a\\x1b[31mred");
        assert_eq!(escape("bell\u{7}\r\n\t"), "bell\\x07\\x0d\\x0a\\x09");
        assert_eq!(escape("\u{7f}\u{9b}"), "\\x7f\\x9b");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape_lines("one\ntwo\u{1b}"), "one\ntwo\\x1b");
    }
}
