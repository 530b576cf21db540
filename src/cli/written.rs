//! `--json` of the commands that write signed ledger entries: the object is the library's
//! (`reg::report::written`, `schema/write-result.schema.json`), so that the command line and
//! every other caller of a write say the same; printing it is all that is left here.

use super::error::CommandResult;
pub use reg::report::written::{Written, denied};

/// Printing a write result, the one thing the command line adds to it.
pub trait Print {
    /// Prints the object.
    fn print(self) -> CommandResult;
}

impl Print for Written {
    fn print(self) -> CommandResult {
        jsonln!(&self);
        Ok(())
    }
}
