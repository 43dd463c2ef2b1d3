//! Why one host did not get through the pipeline. Typed, because callers decide from it: an
//! unreachable host is reported apart from a failed one, a refusal means nothing was changed, a
//! failed step means the steps before it were applied.

use crate::facts::FactsError;
use crate::playbook::RenderError;
use crate::resources::Refusal;
use crate::ssh::SshError;

#[derive(Debug, Clone, PartialEq)]
pub enum HostError {
    Ssh(SshError),
    /// Another run holds the host's lock (who, since when); nothing was read or changed.
    Locked(String),
    /// The host cannot be converged as it is (unknown OS, no IPVS, no NIC): nothing changed.
    Refused(String),
    /// The facts script failed or printed something it never prints.
    Facts(String),
    /// A playbook rendered into steps that are not valid for this host.
    Playbook(String),
    /// A remote exec ran past `--timeout` (`during`: reading facts, or step N); the session was
    /// closed, the steps before it were applied.
    TimedOut {
        secs: u64,
        during: String,
    },
    /// Step `number` (1-based) failed; the steps before it were applied, none after.
    Step {
        number: usize,
        resource: String,
        output: String,
    },
}

impl HostError {
    /// As in the JSON report's `error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Ssh(SshError::Unreachable(_)) => "unreachable",
            HostError::Ssh(SshError::HostKey(_)) => "host_key",
            HostError::Ssh(SshError::Auth(_)) => "auth",
            HostError::Ssh(SshError::Session(_)) => "session",
            HostError::Ssh(SshError::Timeout { .. }) | HostError::TimedOut { .. } => "timeout",
            HostError::Refused(_) => "refused",
            HostError::Locked(_) => "locked",
            HostError::Facts(_) => "facts",
            HostError::Playbook(_) => "playbook",
            HostError::Step { .. } => "step",
        }
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, HostError::Ssh(SshError::Unreachable(_)))
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::Ssh(e) => e.fmt(f),
            HostError::Refused(m) | HostError::Facts(m) | HostError::Playbook(m) => f.write_str(m),
            HostError::Locked(holder) => write!(
                f,
                "another lvsprov run holds this host: {holder}; nothing was changed here; run again when it is done, or with --wait-lock SECS"
            ),
            HostError::TimedOut { secs, during } => write!(
                f,
                "timed out after {secs} s in {during}; the session was closed (raise --timeout if it needs longer)"
            ),
            HostError::Step {
                number,
                resource,
                output,
            } => write!(
                f,
                "step {number} ({resource}) failed: {output}; the steps before it were applied, none after"
            ),
        }
    }
}

impl From<SshError> for HostError {
    fn from(e: SshError) -> Self {
        HostError::Ssh(e)
    }
}

impl From<Refusal> for HostError {
    fn from(r: Refusal) -> Self {
        HostError::Refused(r.0)
    }
}

impl From<FactsError> for HostError {
    fn from(e: FactsError) -> Self {
        match e {
            FactsError::Unsupported(m) => HostError::Refused(m),
            FactsError::Garbled(m) => HostError::Facts(m),
        }
    }
}

impl From<RenderError> for HostError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::Playbook(m) => HostError::Playbook(m),
            RenderError::Refused(r) => r.into(),
        }
    }
}
