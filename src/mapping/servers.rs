//! Servers: devices with a server role that are cabled to a switch of the fabric.

use std::collections::BTreeSet;

use crate::model::ServerSpec;

use super::index::{DeviceRole, Index};
use super::objects::Draft;
use super::sources::SourceRef;
use super::switches::{DeviceNames, device_name};

pub(crate) fn render_servers(index: &Index, names: &mut DeviceNames) -> Vec<Draft<ServerSpec>> {
    let cabled: BTreeSet<u64> = index
        .links
        .iter()
        .flat_map(|l| {
            let (a, b) = (l.a.device.id, l.b.device.id);
            [(a, b), (b, a)]
        })
        .filter(|(server, switch)| {
            *index.role(*server) == DeviceRole::Server && index.is_switch(*switch)
        })
        .map(|(server, _)| server)
        .collect();
    let profile_field = &index.mapping().custom_fields.profile;
    let mut out: Vec<Draft<ServerSpec>> = cabled
        .into_iter()
        .filter_map(|id| index.devices.get(&id).copied())
        .map(|device| {
            let name = device_name(index, device);
            names.insert(device.id, name.clone());
            let spec = ServerSpec {
                description: device.description.clone().filter(|d| !d.is_empty()),
                profile: device.custom_fields.string(profile_field),
            };
            Draft::new(name, spec, vec![SourceRef::of(device)])
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
