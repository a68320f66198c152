//! Integration tests of intake and the job queue, against the real Redis (database 3 of
//! 127.0.0.1:6379, or HHS_TEST_REDIS_URL) and the embedded redb queue. Every queue test runs
//! on both back-ends (see `both_backends!`).

mod support;

mod backlog_memory;
mod binary;
mod bounds;
mod cli;
mod conformance;
mod fuzz;
mod hostile_bodies;
mod jobs_api;
mod logs;
mod redis_layout;
mod redis_outage;
mod redis_tls;
mod resilience;
mod slow_clients;
mod takeover;
mod webhook;
