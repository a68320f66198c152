//! The allocator of the `hedgehog-sidecar` binary (`src/main.rs`), so a bench measures the
//! service as it runs: glibc's allocator spends a large share of a publish merging and freeing
//! the many small blocks a fabric's JSON objects are made of.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
