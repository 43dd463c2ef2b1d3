//! The exit codes, in one place: scripts and CI decide from them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done, or nothing to change, or every check held.
    Ok,
    /// A host failed, was refused or unreachable (the others still ran); or a check failed.
    HostFailed,
    /// `check` found changes to make.
    Changes,
    /// Invalid inventory, playbook or usage: no host was contacted.
    Usage,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::HostFailed => 1,
            Exit::Changes => 2,
            Exit::Usage => 3,
        }
    }
}
