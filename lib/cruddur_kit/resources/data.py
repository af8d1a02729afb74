"""The data stores: the DynamoDB messages table, the optional RDS instance, the SSM parameters.
Teardown keeps them unless asked (--include-data)."""

from __future__ import annotations

from botocore.exceptions import WaiterError

from .. import AWS_JSON, ddb, ssm, templates
from ..errors import KitError
from ..kit import Kit
from ..output import log

RDS_SPEC = AWS_JSON / "database" / "rds.json"
SSM_PREFIX = "/cruddur/"


def ensure_table(kit: Kit) -> None:
    name = kit.vars["DDB_MESSAGE_TABLE"]
    client = kit.client("dynamodb")
    if kit.dry_run:
        kit.report("unchanged" if ddb.describe(client, name) else "created", "dynamodb-table", name)
        return
    created = ddb.ensure_table(client, name)
    kit.report("created" if created else "unchanged", "dynamodb-table", name)


# Settings setup converges on an existing instance (ModifyDBInstance, applied immediately).
CONVERGED = ("DeletionProtection", "BackupRetentionPeriod", "ManageMasterUserPassword", "VpcSecurityGroupIds")
DELETE_WAIT = {"Delay": 15, "MaxAttempts": 60}  # RDS takes 5-10 minutes to delete an instance: 15 min bound
CREATE_WAIT = {"Delay": 30, "MaxAttempts": 60}  # and 5-15 minutes to create one: 30 min bound


def _reason(e: WaiterError) -> str:
    return (e.last_response or {}).get("Error", {}).get("Message") or "timed out"


def ensure_database(kit: Kit) -> None:
    rds = kit.client("rds")
    doc = templates.render(RDS_SPEC, kit.vars)
    sg, inst = doc["subnetGroup"], doc["instance"]
    try:
        rds.describe_db_subnet_groups(DBSubnetGroupName=sg["DBSubnetGroupName"])
        kit.report("unchanged", "db-subnet-group", sg["DBSubnetGroupName"])
    except rds.exceptions.DBSubnetGroupNotFoundFault:
        if not kit.dry_run:
            rds.create_db_subnet_group(**sg)
        kit.report("created", "db-subnet-group", sg["DBSubnetGroupName"])
    ident = inst["DBInstanceIdentifier"]
    live = describe_database(kit, ident)
    if live is None:
        if not kit.dry_run:
            rds.create_db_instance(**inst)
            # its endpoint (DB_HOST) exists only once it is available
            _wait(
                rds,
                "db_instance_available",
                ident,
                CREATE_WAIT,
                "available",
                "not available yet",
                "bin/aws/setup --with-database",
            )
        kit.report(
            "created",
            "rds-instance",
            ident,
            "encrypted, backups 7 days, deletion protection, password in Secrets Manager",
        )
        return
    changes = _drift(live, inst)
    if changes and not kit.dry_run:
        rds.modify_db_instance(DBInstanceIdentifier=ident, ApplyImmediately=True, **changes)
    kit.report("updated" if changes else "unchanged", "rds-instance", ident, ", ".join(sorted(changes)))
    if live.get("StorageEncrypted") != inst.get("StorageEncrypted"):
        # encryption cannot be changed in place: say so rather than pretend the instance matches
        log(f"warning: rds-instance {ident} is not encrypted; only a snapshot restored with encryption can fix it")


def _drift(live: dict, wanted: dict) -> dict:
    """The ModifyDBInstance arguments that bring a live instance back to the spec."""
    have = {
        "DeletionProtection": live.get("DeletionProtection"),
        "BackupRetentionPeriod": live.get("BackupRetentionPeriod"),
        "ManageMasterUserPassword": bool(live.get("MasterUserSecret")),
        "VpcSecurityGroupIds": sorted(g["VpcSecurityGroupId"] for g in live.get("VpcSecurityGroups", [])),
    }
    want = {k: (sorted(wanted[k]) if k == "VpcSecurityGroupIds" else wanted[k]) for k in CONVERGED if k in wanted}
    return {k: v for k, v in want.items() if have[k] != v}


def describe_database(kit: Kit, ident: str | None = None) -> dict | None:
    rds = kit.client("rds")
    ident = ident or templates.load(RDS_SPEC)["instance"]["DBInstanceIdentifier"]
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        return None


def database_exists(kit: Kit) -> bool:
    return describe_database(kit) is not None


def teardown(kit: Kit, include_data: bool) -> None:
    """Delete the data stores with --include-data; otherwise list them as kept."""
    table = kit.vars["DDB_MESSAGE_TABLE"]
    dynamodb = kit.client("dynamodb")
    _delete_with_data(
        kit,
        include_data,
        "dynamodb-table",
        table,
        ddb.describe(dynamodb, table) is not None,
        lambda: dynamodb.delete_table(TableName=table),
        kept="data; --include-data deletes it",
    )

    rds = kit.client("rds")
    doc = templates.load(RDS_SPEC)
    ident, subnets = doc["instance"]["DBInstanceIdentifier"], doc["subnetGroup"]["DBSubnetGroupName"]
    live = describe_database(kit, ident)

    def delete_database():
        if live.get("DBInstanceStatus") != "deleting":  # else an earlier teardown already asked
            rds.modify_db_instance(DBInstanceIdentifier=ident, DeletionProtection=False, ApplyImmediately=True)
            rds.delete_db_instance(
                DBInstanceIdentifier=ident, SkipFinalSnapshot=False, FinalDBSnapshotIdentifier=f"{ident}-final"
            )
        # the subnet group and the DB security group are in use until the instance is gone
        _wait(rds, "db_instance_deleted", ident, DELETE_WAIT, "deleted", "still being deleted", "bin/aws/teardown")

    _delete_with_data(
        kit,
        include_data,
        "rds-instance",
        ident,
        live is not None,
        delete_database,
        kept="data; --include-data deletes it (final snapshot kept)",
        deleted=f"final snapshot {ident}-final",
    )
    try:
        rds.describe_db_subnet_groups(DBSubnetGroupName=subnets)
        if include_data:
            if not kit.dry_run:
                rds.delete_db_subnet_group(DBSubnetGroupName=subnets)
            kit.report("deleted", "db-subnet-group", subnets)
        else:
            kit.report("kept", "db-subnet-group", subnets, "the database uses it")
    except rds.exceptions.DBSubnetGroupNotFoundFault:
        pass

    client = kit.client("ssm")
    names = ssm.existing(client, SSM_PREFIX)
    if not names:
        kit.report("absent", "ssm-parameters", SSM_PREFIX)
    elif include_data:
        if not kit.dry_run:
            ssm.delete(client, names)
        for name in names:
            kit.report("deleted", "ssm-parameter", name)
    else:
        for name in names:
            kit.report("kept", "ssm-parameter", name, "secret; --include-data deletes it")


def _delete_with_data(
    kit: Kit, include_data: bool, kind: str, name: str, exists: bool, delete, *, kept: str, deleted: str = ""
) -> None:
    """A data store: absent; deleted with --include-data (`delete` runs unless --dry-run); else kept."""
    if not exists:
        kit.report("absent", kind, name)
    elif include_data:
        if not kit.dry_run:
            delete()
        kit.report("deleted", kind, name, deleted)
    else:
        kit.report("kept", kind, name, kept)


def _wait(rds, waiter: str, ident: str, config: dict, goal: str, not_yet: str, rerun: str) -> None:
    """One bounded RDS wait with progress on stderr; on timeout, the reason and the command to re-run."""
    minutes = config["Delay"] * config["MaxAttempts"] // 60
    log(f"waiting for rds-instance {ident} to be {goal} (up to {minutes} min) ...")
    try:
        rds.get_waiter(waiter).wait(DBInstanceIdentifier=ident, WaiterConfig=config)
    except WaiterError as e:
        raise KitError(f"rds-instance {ident} is {not_yet} ({_reason(e)}): run {rerun} again later") from e
