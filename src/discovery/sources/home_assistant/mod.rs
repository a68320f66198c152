//! The Home Assistant source: the devices of its device registry that have a network
//! connection (a MAC), with their manufacturer, model, versions and serial. The registry is
//! only offered by the WebSocket API (`/api/websocket`, command `config/device_registry/list`),
//! authenticated with a long-lived access token; the REST API has no device list.

pub mod api;
mod observe;
mod socket;
mod source;

pub use observe::observe_device;
pub use source::HomeAssistantSource;
