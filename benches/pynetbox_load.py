"""Loads one fabric's NetBox objects with pynetbox, the way load_fabric does (same filters, same
id chunks), for the comparison in benches/netbox_load.rs.

Usage: pynetbox_load.py URL TOKEN FABRIC [--threading]
Prints one JSON line: {"seconds": float, "objects": int}.
"""
import json
import sys
import time

import pynetbox

CHUNK = 150  # ids per request, as the Rust client (gunicorn caps the request line)


def chunked(endpoint, key, ids):
    out = []
    ids = sorted(ids)
    for i in range(0, len(ids), CHUNK):
        out.extend(endpoint.filter(**{key: ids[i:i + CHUNK]}))
    return out


def cf(record, name):
    value = (record.custom_fields or {}).get(name)
    if isinstance(value, dict):
        value = value.get("value")
    return value


def main():
    url, token, fabric = sys.argv[1:4]
    threading = "--threading" in sys.argv
    if token.startswith("Bearer "):
        token = token[len("Bearer "):]
    nb = pynetbox.api(url, token=token, threading=threading)
    started = time.perf_counter()
    member = {"cf_hedgehog_fabric": fabric}
    objects = {}

    def keep(kind, records, predicate=lambda r: True):
        bucket = objects.setdefault(kind, {})
        for r in records:
            if predicate(r):
                bucket[r.id] = r

    is_member = lambda r: cf(r, "hedgehog_fabric") == fabric
    keep("devices", nb.dcim.devices.filter(**member), is_member)
    keep("vlan_groups", nb.ipam.vlan_groups.filter(**member), is_member)
    keep("vrfs", nb.ipam.vrfs.filter(**member), is_member)
    keep("route_targets", nb.ipam.route_targets.filter(**member), is_member)
    keep("prefixes", nb.ipam.prefixes.filter(**member), is_member)
    keep("ip_ranges", nb.ipam.ip_ranges.filter(**member), is_member)
    keep("vlans", nb.ipam.vlans.filter(**member), is_member)
    keep("ip_addresses", nb.ipam.ip_addresses.filter(**member), is_member)
    switches = set(objects["devices"])
    groups = set(objects["vlan_groups"])
    vrfs = set(objects["vrfs"])

    cables = chunked(nb.dcim.cables, "device_id", switches)
    peers = set()
    for cable in cables:
        ends = list(cable.a_terminations) + list(cable.b_terminations)
        devs = {e.object.device.id for e in ends if getattr(e, "object", None) and getattr(e.object, "device", None)}
        if devs & switches:
            objects.setdefault("cables", {})[cable.id] = cable
            peers |= devs - switches
    keep("interfaces", chunked(nb.dcim.interfaces, "device_id", switches))
    keep("ip_addresses", chunked(nb.ipam.ip_addresses, "device_id", switches))
    keep("mac_addresses", chunked(nb.dcim.mac_addresses, "device_id", switches))
    keep("vlans", chunked(nb.ipam.vlans, "group_id", groups))
    keep("ip_addresses", chunked(nb.ipam.ip_addresses, "vrf_id", vrfs))
    keep("ip_ranges", chunked(nb.ipam.ip_ranges, "vrf_id", vrfs))
    keep("devices", chunked(nb.dcim.devices, "id", peers))
    keep("interfaces", chunked(nb.dcim.interfaces, "device_id", peers))
    keep("ip_addresses", chunked(nb.ipam.ip_addresses, "device_id", peers))
    keep("mac_addresses", chunked(nb.dcim.mac_addresses, "device_id", peers))
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "objects": sum(len(v) for v in objects.values())}))


if __name__ == "__main__":
    main()
