//! Rendering a generated fabric of about 20,000 NetBox objects through the mapping:
//! index, build, validate with every admission rule, and convert to sorted manifests.
//!
//! `cargo bench --bench render`. Target: well under one second per render. Results:
//! BENCHMARKS.md, "Rendering".

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hedgehog_sidecar::mapping;
use testkit::synthetic::SyntheticFabric;

/// 2 spines, 73 leaves with 32 servers each (half of them bonded), 20 VPCs: about 20,000
/// NetBox objects.
fn spec() -> SyntheticFabric {
    SyntheticFabric {
        spines: 2,
        leaves: 73,
        servers_per_leaf: 32,
        vpcs: 20,
        ..SyntheticFabric::new("bench-render", 250, 4_290_000_000)
    }
}

fn render(c: &mut Criterion) {
    let spec = spec();
    let config = spec.fabric_config();
    let snapshot = spec.generate(&config.mapping);
    let rendered = mapping::render(&config, &snapshot).expect("the generated fabric validates");
    eprintln!(
        "render: {} NetBox objects -> {} Hedgehog objects",
        snapshot.len(),
        rendered.manifests.len()
    );
    let mut group = c.benchmark_group("render");
    group.sample_size(20);
    group.bench_function("20k-netbox-objects", |b| {
        b.iter(|| mapping::render(black_box(&config), black_box(&snapshot)))
    });
    group.bench_function("20k-netbox-objects-to-yaml", |b| {
        b.iter(|| {
            mapping::render(black_box(&config), black_box(&snapshot)).map(|r| r.to_yaml().len())
        })
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
