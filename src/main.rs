//! `rbm`: the nrelu-rbm command-line tool. All the work is in
//! [`nrelu_rbm::cli`]; this only reports errors and sets the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match nrelu_rbm::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
