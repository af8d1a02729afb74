"""Security groups as EC2 describes them: does a group admit a port from a CIDR, or from another group?
(verify and doctor ask; lint's network.sg-chain asks the same of the spec file, in its own shape.)"""

from __future__ import annotations


def admits_cidr(group, port, cidr="0.0.0.0/0") -> bool:
    return any(
        _covers(p, port) and any(r.get("CidrIp") == cidr for r in p.get("IpRanges", []))
        for p in group.get("IpPermissions", [])
    )


def admits_group(group, port, source) -> bool:
    return any(
        _covers(p, port) and any(r.get("GroupId") == source for r in p.get("UserIdGroupPairs", []))
        for p in group.get("IpPermissions", [])
    )


def _covers(perm, port) -> bool:
    if perm.get("IpProtocol") == "-1":
        return True
    return perm.get("IpProtocol") in ("tcp", "6") and perm.get("FromPort", 0) <= port <= perm.get("ToPort", 65535)
