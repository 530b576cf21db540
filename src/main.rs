//! The `reg` command line: parse, run one command, map the result to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
