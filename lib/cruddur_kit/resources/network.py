"""Security groups from aws/json/network/security-groups.json: ALB <- anywhere, services <- ALB, DB <- services."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from .. import AWS_JSON, templates
from .. import spec as speclib
from ..config import ALB_SG, DB_SG, SERVICE_SG
from ..errors import KitError
from ..kit import Kit
from . import planned

SPEC = AWS_JSON / "network" / "security-groups.json"
DELETE_TIMEOUT = 180.0  # load balancer network interfaces take a while to go


def groups_spec(kit: Kit) -> list[dict]:
    return templates.render(SPEC, kit.vars)["groups"]


def find_group(kit: Kit, name: str) -> dict | None:
    groups = kit.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [kit.vars["VPC_ID"]]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return groups[0] if groups else None


def _wanted(rule: dict, ids: dict[str, str], ports: list[int]) -> set[tuple]:
    """(port, source) pairs; source is a CIDR or a group id."""
    rule_ports = ports if rule["port"] == "service-ports" else [int(rule["port"])]
    source = rule.get("cidr") or ids[rule["from"]]
    return {(p, source) for p in rule_ports}


def _current(group: dict) -> set[tuple]:
    have = set()
    for perm in group.get("IpPermissions", []):
        if perm.get("IpProtocol") != "tcp" or perm.get("FromPort") != perm.get("ToPort"):
            have.add(("other", repr(perm)))
            continue
        for r in perm.get("IpRanges", []):
            have.add((perm["FromPort"], r["CidrIp"]))
        for r in perm.get("UserIdGroupPairs", []):
            have.add((perm["FromPort"], r["GroupId"]))
    return have


def _permission(port: int, source: str) -> dict:
    perm = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if source.startswith("sg-") or source.startswith("("):
        perm["UserIdGroupPairs"] = [{"GroupId": source}]
    else:
        perm["IpRanges"] = [{"CidrIp": source}]
    return perm


def ensure_groups(kit: Kit) -> dict[str, str]:
    """Every group with exactly its ingress rules; {group name: id}. Remembers ALB_SG_ID etc."""
    ec2 = kit.client("ec2")
    vpc = kit.vars["VPC_ID"]
    ports = sorted({s.container_port for s in speclib.services()})
    specs = groups_spec(kit)
    ids, found, created = {}, {}, set()
    for g in specs:  # first every group exists, so rules can name each other
        name = g["GroupName"]
        found[name] = find_group(kit, name)
        if found[name] is not None:
            ids[name] = found[name]["GroupId"]
        elif kit.dry_run:
            ids[name] = planned("security-group", name)
            created.add(name)
        else:
            ids[name] = ec2.create_security_group(
                GroupName=name,
                Description=g["Description"],
                VpcId=vpc,
                TagSpecifications=[
                    {
                        "ResourceType": "security-group",
                        "Tags": [{"Key": "Name", "Value": name}, {"Key": "project", "Value": "cruddur"}],
                    }
                ],
            )["GroupId"]
            created.add(name)
    for g in specs:
        name = g["GroupName"]
        want = set().union(*[_wanted(r, ids, ports) for r in g.get("ingress", [])]) if g.get("ingress") else set()
        have = _current(found[name]) if found[name] else set()
        add, remove = want - have, have - want
        if not kit.dry_run and not name.startswith("("):
            for port, source in sorted(add):
                ec2.authorize_security_group_ingress(GroupId=ids[name], IpPermissions=[_permission(port, source)])
            revoke = [_permission(p, s) for p, s in remove if p != "other"]
            if revoke:
                ec2.revoke_security_group_ingress(GroupId=ids[name], IpPermissions=revoke)
            others = [perm for perm in (found[name] or {}).get("IpPermissions", []) if ("other", repr(perm)) in remove]
            if others:
                ec2.revoke_security_group_ingress(GroupId=ids[name], IpPermissions=others)
        rules = ", ".join(f"{p} from {_source_name(s, ids)}" for p, s in sorted(want, key=str))
        if name in created:
            kit.report("created", "security-group", name, rules)
        elif add or remove:
            kit.report("updated", "security-group", name, rules)
        else:
            kit.report("unchanged", "security-group", name)
    for var, name in (("ALB_SG_ID", ALB_SG), ("SERVICE_SG_ID", SERVICE_SG), ("DB_SG_ID", DB_SG)):
        if name in ids:
            kit.vars.remember(var, ids[name])
    return ids


def _source_name(source: str, ids: dict[str, str]) -> str:
    for name, gid in ids.items():
        if gid == source:
            return name
    return source


def delete_groups(kit: Kit, keep: set[str] = frozenset()) -> None:
    """Drop cross-references first, then delete; waits (bounded) while network interfaces still use a group."""
    ec2 = kit.client("ec2")
    names = [g["GroupName"] for g in groups_spec(kit)]
    found = {n: find_group(kit, n) for n in names}
    if not kit.dry_run:
        for name, group in found.items():
            if group is None or name in keep:
                continue
            refs = [p for p in group.get("IpPermissions", []) if p.get("UserIdGroupPairs")]
            if refs:
                ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=refs)
        # kept groups may refer to groups being deleted (the DB group to the service group)
        for name in keep:
            group = found.get(name)
            if group:
                gone = {found[n]["GroupId"] for n in names if found.get(n) and n not in keep}
                refs = [
                    p
                    for p in group.get("IpPermissions", [])
                    if any(pair["GroupId"] in gone for pair in p.get("UserIdGroupPairs", []))
                ]
                if refs:
                    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=refs)
    for name in reversed(names):
        group = found[name]
        if group is None:
            kit.report("absent", "security-group", name)
            continue
        if name in keep:
            kit.report("kept", "security-group", name, "the database still uses it")
            continue
        if not kit.dry_run:
            _delete_when_free(ec2, group["GroupId"], name)
        kit.report("deleted", "security-group", name)


def _delete_when_free(ec2, group_id: str, name: str, timeout: float = DELETE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            ec2.delete_security_group(GroupId=group_id)
            return
        except ClientError as e:
            if e.response["Error"]["Code"] != "DependencyViolation" or time.monotonic() > deadline:
                raise KitError(
                    f"security group {name} ({group_id}) could not be deleted: {e.response['Error']['Message']}"
                ) from e
            time.sleep(5)
