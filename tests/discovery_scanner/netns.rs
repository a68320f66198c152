//! Hosts made for one test run: a network namespace per host, joined to this namespace by a
//! veth pair in a /30 of 169.254.0.0/16 (link-local: nothing outside this machine), with a TCP
//! listener that logs every peer it accepts. Everything is removed on drop, also when the test
//! fails half way.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why the namespaces cannot be made here (not root, no iproute2): the test says so and skips.
pub fn unavailable() -> Option<String> {
    let root = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        return Some("not root".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "ip netns: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(error) => Some(format!("no ip (iproute2): {error}")),
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One host: namespace `namespace`, reached at `address` through this side's `gateway`.
pub struct Host {
    pub namespace: String,
    pub address: Ipv4Addr,
    pub mac: String,
    listener: Option<Child>,
    log: PathBuf,
}

impl Host {
    /// Namespace `<prefix>-<tag>` with a veth whose far end has `mac` and the second address of
    /// the /30 at `base` (this side has the first).
    pub fn new(prefix: &str, tag: &str, base: Ipv4Addr, mac: &str) -> Host {
        let namespace = format!("{prefix}-{tag}");
        let (near, far) = (format!("{prefix}{tag}r"), format!("{prefix}{tag}n"));
        let [a, b, c, d] = base.octets();
        let address = Ipv4Addr::new(a, b, c, d + 2);
        let mut host = Host {
            namespace: namespace.clone(),
            address,
            mac: mac.to_uppercase(),
            listener: None,
            log: std::env::temp_dir().join(format!("{namespace}.accepted")),
        };
        ip(&["netns", "add", &namespace]);
        ip(&[
            "link", "add", &near, "type", "veth", "peer", "name", &far, "netns", &namespace,
        ]);
        ip(&["-n", &namespace, "link", "set", &far, "address", mac]);
        ip(&[
            "addr",
            "add",
            &format!("{a}.{b}.{c}.{}/30", d + 1),
            "dev",
            &near,
        ]);
        ip(&[
            "-n",
            &namespace,
            "addr",
            "add",
            &format!("{address}/30"),
            "dev",
            &far,
        ]);
        ip(&["link", "set", &near, "up"]);
        ip(&["-n", &namespace, "link", "set", &far, "up"]);
        ip(&["-n", &namespace, "link", "set", "lo", "up"]);
        host.listen(8080);
        host
    }

    /// A listener on `port` that writes `listening`, then each accepted peer's address.
    fn listen(&mut self, port: u16) {
        const SCRIPT: &str = "import socket, sys\n\
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
            s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)\n\
            log = open(sys.argv[3], 'w'); log.write('listening\\n'); log.flush()\n\
            while True:\n    c, peer = s.accept(); log.write(peer[0] + '\\n'); log.flush(); c.close()\n";
        let child = Command::new("ip")
            .args(["netns", "exec", &self.namespace, "python3", "-c", SCRIPT])
            .args([self.address.to_string(), port.to_string()])
            .arg(&self.log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the listener");
        self.listener = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.read_log().starts_with("listening") {
            assert!(Instant::now() < deadline, "the listener did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn read_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The peers the listener accepted.
    pub fn accepted(&self) -> usize {
        self.read_log().lines().skip(1).count()
    }

    /// IPv4 packets the namespace has received (`Ip: InReceives`), any protocol.
    pub fn ipv4_received(&self) -> u64 {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.namespace, "cat", "/proc/net/snmp"])
            .output()
            .expect("read the namespace's counters");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut ip_lines = text.lines().filter(|l| l.starts_with("Ip:"));
        let (names, values) = (ip_lines.next().unwrap(), ip_lines.next().unwrap());
        let at = names
            .split_whitespace()
            .position(|n| n == "InReceives")
            .unwrap();
        values.split_whitespace().nth(at).unwrap().parse().unwrap()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.listener.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting the namespace deletes its veth end, and so the pair.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.namespace])
            .status();
        let _ = std::fs::remove_file(&self.log);
    }
}
