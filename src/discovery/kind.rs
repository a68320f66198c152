//! The two kinds of NetBox object discovery matches and creates: devices (`dcim`) and virtual
//! machines (`virtualization`), each with its own endpoints for itself and its interfaces.

use serde::Serialize;

use crate::netbox::endpoints::{DEVICES, Endpoint, INTERFACES, VIRTUAL_MACHINES, VM_INTERFACES};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    #[default]
    Device,
    /// A virtual machine (or container) in a NetBox cluster.
    VirtualMachine,
}

impl ObjectKind {
    pub fn endpoint(self) -> Endpoint {
        match self {
            ObjectKind::Device => DEVICES,
            ObjectKind::VirtualMachine => VIRTUAL_MACHINES,
        }
    }

    pub fn interface_endpoint(self) -> Endpoint {
        match self {
            ObjectKind::Device => INTERFACES,
            ObjectKind::VirtualMachine => VM_INTERFACES,
        }
    }

    /// The field of an interface naming its parent object.
    pub fn parent_field(self) -> &'static str {
        match self {
            ObjectKind::Device => "device",
            ObjectKind::VirtualMachine => "virtual_machine",
        }
    }
}
