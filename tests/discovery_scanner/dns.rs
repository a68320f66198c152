//! A DNS server on loopback answering PTR queries from a fixed table (NXDOMAIN otherwise), so
//! reverse lookups are tested without the machine's resolver.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use hickory_resolver::proto::op::{Message, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::PTR;
use hickory_resolver::proto::rr::{Name, RData, Record};
use tokio::net::UdpSocket;

/// Serves `names` (address to host name) until the test's runtime ends; returns its address.
pub async fn serve_ptr(names: BTreeMap<IpAddr, String>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    let names: BTreeMap<Name, Name> = names
        .into_iter()
        .map(|(ip, host)| (Name::from(ip), Name::from_str(&format!("{host}.")).unwrap()))
        .collect();
    tokio::spawn(async move {
        let mut buffer = [0u8; 1500];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buffer[..len]) else {
                continue;
            };
            let reply = answer(&query, &names);
            let _ = socket.send_to(&reply.to_vec().unwrap(), peer).await;
        }
    });
    address
}

fn answer(query: &Message, names: &BTreeMap<Name, Name>) -> Message {
    let id = query.metadata.id;
    let asked = query.queries.first().map(|q| q.name().clone());
    let found = asked.as_ref().and_then(|name| names.get(name));
    let mut reply = match found {
        Some(_) => Message::response(id, OpCode::Query),
        None => Message::error_msg(id, OpCode::Query, ResponseCode::NXDomain),
    };
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = true;
    reply.add_queries(query.queries.clone());
    if let (Some(name), Some(host)) = (asked, found) {
        reply.add_answer(Record::from_rdata(name, 60, RData::PTR(PTR(host.clone()))));
    }
    reply
}
