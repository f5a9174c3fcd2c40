//! Test-only helpers for Aerie's integration tests.
//!
//! Owns: spawning the real `aerie` binary on a free loopback port and tearing it
//! down again ([`ServerProcess`]), finding that binary ([`locate_aerie_bin`]), and
//! speaking raw proto frames to it for malformed-input tests ([`wire`]), and GETs
//! from its HTTP port ([`http`]).
//!
//! Does not own: any server logic, and no stand-in for the server. Every test that
//! uses this crate talks to the real process over 127.0.0.1, driven either by these
//! raw helpers or by the official Aerospike clients.
//!
//! Also: a cluster of such processes that can be killed, paused and restarted
//! ([`cluster`]), a private network namespace to cut links in ([`netns`]), and a slow storage
//! device: [`ServerBuilder::slow_device_reads`] and [`ServerBuilder::slow_device_writes`] switch
//! on the server's device fault seam. Later (see STYLE.md §4): a fake clock belongs here too.

mod bin;
pub mod cluster;
pub mod http;
pub mod netns;
mod process;
pub mod wire;

pub use bin::locate_aerie_bin;
pub use cluster::TestCluster;
pub use process::{ServerBuilder, ServerProcess};
