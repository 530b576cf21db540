//! `reg completions` and `reg man`: shell completions and man pages, generated from the CLI
//! definition itself (clap's own generators), so they cannot fall out of date.

use super::error::{CommandError, CommandResult};
use clap::CommandFactory as _;
use std::path::PathBuf;

/// Print shell completions (bash: `reg completions bash > /etc/bash_completion.d/reg`)
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    shell: clap_complete::Shell,
}

/// Write a man page per command into DIR (install: copy them to a man1 directory)
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Where to write reg.1, reg-add.1, reg-key-gen.1, ...
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
}

pub fn completions(args: CompletionsArgs) -> CommandResult {
    use std::io::Write as _;
    let mut cmd = super::Cli::command();
    // Into a buffer first: clap_complete panics on a closed stdout, reg does not.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "reg", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

pub fn man(args: ManArgs) -> CommandResult {
    super::stdio::refuse_dash(&args.out, "a directory of man pages")?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CommandError::usage(format!("create `{}`: {e}", args.out.display())))?;
    let mut written = 0;
    let mut stack = vec![(String::from("reg"), super::Cli::command())];
    while let Some((name, cmd)) = stack.pop() {
        let cmd = cmd.name(name.clone());
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
        let path = args.out.join(format!("{name}.1"));
        std::fs::write(&path, page)
            .map_err(|e| CommandError::usage(format!("write `{}`: {e}", path.display())))?;
        written += 1;
        for sub in cmd.get_subcommands() {
            if sub.get_name() != "help" {
                stack.push((format!("{name}-{}", sub.get_name()), sub.clone()));
            }
        }
    }
    outln!("wrote {written} man pages into {}", args.out.display());
    Ok(())
}
