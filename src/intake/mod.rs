//! Webhook intake: signature check, parsing NetBox events, turning them into jobs.

pub(crate) mod event;
pub(crate) mod signature;

pub use event::{
    Decision, EventError, HANDLED_EVENTS, HANDLED_OBJECT_TYPES, OwnWrites, SkipReason, decide,
};
pub use signature::{SignatureError, SignatureVerifier, sign};
