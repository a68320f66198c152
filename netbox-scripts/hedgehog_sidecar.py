"""Hedgehog fabric status and actions, from NetBox's UI.

Thin on purpose: every script calls the hedgehog-sidecar's HTTP API, where the logic lives.
NetBox 4.7 deprecates custom scripts (removal planned for v5.0); when they go, the same API
serves any other front end.

Configuration, in the environment of NetBox's web and worker processes:
  HEDGEHOG_SIDECAR_URL        e.g. http://hedgehog-sidecar:8080
  HEDGEHOG_SIDECAR_API_TOKEN  the sidecar's api.token
  HEDGEHOG_FABRIC_RECORD_TYPE the cluster type of the fabrics' records (mapping.fabric_record_type;
                              default hedgehog-fabric)

A fabric is chosen from its record in NetBox (a cluster of that type, named after the fabric,
which the sidecar's first reconcile creates), so a script can only be run for a real fabric.
"""

import json
import os

import requests
from extras.scripts import BooleanVar, ObjectVar, Script
from utilities.exceptions import AbortScript
from virtualization.models import Cluster

TIMEOUT_SECONDS = 120
FABRIC_RECORD_TYPE = os.environ.get("HEDGEHOG_FABRIC_RECORD_TYPE", "hedgehog-fabric")


def _fabric_var():
    return ObjectVar(
        model=Cluster,
        query_params={"type": FABRIC_RECORD_TYPE},
        description="The fabric (its record: a cluster of type " + FABRIC_RECORD_TYPE + ")",
    )


def _meta(name, description, commit_default=False):
    """A script's Meta: shown in NetBox's list, never scheduled (each run asks the sidecar now)."""
    return type(
        "Meta",
        (),
        {
            "name": name,
            "description": description,
            "commit_default": commit_default,
            "scheduling_enabled": False,
        },
    )


def _call(method, path, **params):
    base = os.environ.get("HEDGEHOG_SIDECAR_URL", "").rstrip("/")
    token = os.environ.get("HEDGEHOG_SIDECAR_API_TOKEN", "")
    if not base or not token:
        raise AbortScript("Set HEDGEHOG_SIDECAR_URL and HEDGEHOG_SIDECAR_API_TOKEN for NetBox's processes.")
    try:
        response = requests.request(
            method,
            f"{base}/api/v1/fabrics{path}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise AbortScript(f"The sidecar at {base} is unreachable: {error}")
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text[:500]}
    if response.status_code >= 400:
        raise AbortScript(f"The sidecar answered {response.status_code}: {body.get('error', body)}")
    return body


class FabricStatus(Script):
    Meta = _meta("Hedgehog fabric status", "Sync status and health of every fabric, from the sidecar's last reconcile")

    def run(self, data, commit):
        fabrics = _call("GET", "")["fabrics"]
        for fabric in fabrics:
            line = (
                f"{fabric['name']} ({fabric['mode']}): {fabric['sync']}, {fabric['health']}; "
                f"{fabric['in_sync']} in sync, {fabric['drifted']} drifted, "
                f"{fabric['missing']} missing, {fabric['orphans']} not in NetBox"
                f" (found by the last pass; {fabric.get('healed', 0)} repaired by it)"
            )
            if fabric["errors"]:
                self.log_failure(line + " — " + "; ".join(fabric["errors"]))
            elif fabric["sync"] == "Synced":
                self.log_success(line)
            else:
                self.log_warning(line)
        return json.dumps(fabrics, indent=2)


class FabricDrift(Script):
    Meta = _meta("Hedgehog fabric drift", "Field-level differences between NetBox and the fabric's cluster")

    fabric = _fabric_var()
    refresh = BooleanVar(required=False, default=True, description="Compare now instead of showing the last pass")

    def run(self, data, commit):
        fabric = data["fabric"].name
        drift = _call("GET", f"/{fabric}/drift", refresh=str(bool(data.get("refresh"))).lower())
        for obj in drift["objects"]:
            key = f"{obj['key']['kind']}/{obj['key']['name']}"
            if obj["state"] == "drifted":
                for diff in obj["diffs"]:
                    self.log_warning(f"{key} {diff['path']}: NetBox {diff['desired']}, cluster {diff['actual']}")
            elif obj["state"] == "orphan":
                how = "managed, will be pruned" if obj["managed"] else "created outside NetBox, importable"
                self.log_info(f"{key} is not in NetBox ({how})")
            else:
                self.log_warning(f"{key} is {obj['state']}")
        for problem in drift["problems"]:
            self.log_failure(problem["message"])
        for error in drift["errors"]:
            self.log_failure(error)
        if not drift["objects"] and not drift["errors"]:
            self.log_success(f"{fabric} is {drift['sync']}")
        return json.dumps(drift, indent=2)


class ReconcileFabric(Script):
    Meta = _meta("Reconcile Hedgehog fabric", "Compare NetBox with the fabric now, repair drift and write the status back", commit_default=True)

    fabric = _fabric_var()
    dry_run = BooleanVar(required=False, default=False, description="Only compare; change nothing")

    def run(self, data, commit):
        report = _call(
            "POST", f"/{data['fabric'].name}/reconcile", dry_run=str(bool(data.get("dry_run")) or not commit).lower()
        )
        self.log_info(f"{report['fabric']}: {report['sync']}, {report['health']} in {report['duration_ms']} ms")
        for error in report["errors"]:
            self.log_failure(error)
        if report.get("healed"):
            self.log_success("re-applied drifted and missing objects")
        return json.dumps(report, indent=2)
