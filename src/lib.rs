//! lvsprov: builds and tears down LVS direct-routing clusters over SSH.
//!
//! The pipeline, one stage a module (or folder):
//! inventory → steps per host (playbook × platform) → facts (one exec) → plan (pure) → apply
//! (one exec) → report. `check` is the same pipeline stopped after the plan. Commands
//! (`commands/`) compose the stages and share one fleet fan-out (`fleet`).
//!
//! Below every stage: `os` (which OS, its package manager and init), `ipvs` (the one model of
//! IPVS state, parsed and rendered), `secret` (the one masking rule) and `shell` (the one quoting
//! type). Modules import downward only; `scripts/modgraph` prints the graph and CI fails on a
//! cycle.

pub mod apply;
pub mod commands;
pub mod error;
pub mod exit;
pub mod facts;
pub mod fleet;
pub mod host_state;
pub mod import;
pub mod inventory;
pub mod ipvs;
pub mod os;
pub mod pipeline;
pub mod plan;
pub mod platform;
pub mod playbook;
pub mod report;
pub mod resources;
pub mod secret;
pub mod shell;
pub mod ssh;
pub mod verify;
