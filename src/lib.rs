//! lvsprov: builds and tears down LVS direct-routing clusters over SSH.
//!
//! inventory → desired steps per host (playbook) → facts (one exec) → plan (pure) → apply (one
//! exec) → report. `check` is the same pipeline stopped after the plan.

pub mod apply;
pub mod engine;
pub mod facts;
pub mod inventory;
pub mod plan;
pub mod playbook;
pub mod report;
pub mod resources;
pub mod shell;
pub mod ssh;
pub mod verify;
