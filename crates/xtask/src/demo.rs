//! `cargo xtask demo`: everything needed to open Teamline on this machine.

use anyhow::Result;

use crate::prereqs::{self, Purpose};
use crate::{root, sh, ui};

pub fn run() -> Result<()> {
    prereqs::ensure(Purpose::Demo)?;
    ui::install()?;
    ui::build()?;
    // The custom protocol serves the built UI from the binary, as an installed app does.
    sh::run(&mut sh::cmd(
        "cargo",
        &[
            "run",
            "--package",
            "teamline",
            "--features",
            "custom-protocol",
        ],
        &root(),
    ))
}
