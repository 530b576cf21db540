//! Progress bars: on a terminal, on stderr only; never when stderr is not a terminal, with
//! `--quiet`, or with `NO_COLOR` set (a bar redraws itself with terminal escape codes, and
//! NO_COLOR asks for plain output).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::sync::Mutex;

struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    colour: bool,
}

impl reg::util::progress::Sink for Bars {
    fn start(&self, label: &str, total: Option<u64>) {
        let (bar, template) = match total {
            Some(n) => (
                ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
                if self.colour {
                    "{msg:>10} [{bar:24.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec}"
                } else {
                    "{msg:>10} [{bar:24}] {bytes}/{total_bytes} {bytes_per_sec}"
                },
            ),
            None => (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                "{msg:>10} {spinner} {bytes} {bytes_per_sec}",
            ),
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(super::sanitize::escape(label).into_owned());
        bar.tick();
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}

/// Installs progress bars when stderr is a terminal and the user did not ask for quiet.
pub fn install(quiet: bool) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if quiet || no_color || !std::io::stderr().is_terminal() {
        return;
    }
    let colour = true;
    reg::util::progress::install(Box::new(Bars {
        bar: Mutex::new(None),
        colour,
    }));
}
