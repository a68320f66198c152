//! What a pod of a Service named `hedgehog-sidecar` finds in its environment.

/// Exactly what the kubelet injects for `Service/hedgehog-sidecar` (ClusterIP 10.0.0.1, port
/// 8080 named `http`) when `enableServiceLinks` is left on: variables that share the sidecar's
/// own prefix.
pub const SERVICE_LINKS: &[(&str, &str)] = &[
    ("HEDGEHOG_SIDECAR_PORT", "tcp://10.0.0.1:8080"),
    ("HEDGEHOG_SIDECAR_PORT_8080_TCP", "tcp://10.0.0.1:8080"),
    ("HEDGEHOG_SIDECAR_PORT_8080_TCP_ADDR", "10.0.0.1"),
    ("HEDGEHOG_SIDECAR_PORT_8080_TCP_PORT", "8080"),
    ("HEDGEHOG_SIDECAR_PORT_8080_TCP_PROTO", "tcp"),
    ("HEDGEHOG_SIDECAR_SERVICE_HOST", "10.0.0.1"),
    ("HEDGEHOG_SIDECAR_SERVICE_PORT", "8080"),
    ("HEDGEHOG_SIDECAR_SERVICE_PORT_HTTP", "8080"),
];
