"""The local emulator's DynamoDB transactions are isolated, as DynamoDB's are.

moto applies a transaction by snapshotting the whole table, writing, and on any failed condition
restoring the snapshot: run concurrently, one transaction's rollback erases what another committed.
Our launcher serializes DynamoDB requests, so the API's "no lost writes" promise can be tested at all.
"""

from __future__ import annotations

import threading
import uuid

import boto3
from botocore.exceptions import ClientError

from cruddur_kit import ddb

THREADS = 8
INCREMENTS = 10
BALLAST = 500


def test_concurrent_conditional_transactions_lose_nothing(aws_env):
    client = boto3.client(
        "dynamodb", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name=aws_env["AWS_DEFAULT_REGION"]
    )
    table = f"isolation-{uuid.uuid4().hex[:8]}"
    ddb.ensure_table(client, table)
    counter = {"pk": {"S": "COUNTER"}, "sk": {"S": "COUNTER"}}
    client.put_item(TableName=table, Item={**counter, "n": {"N": "0"}})
    # A table of some size: moto's snapshot (a deep copy of the table) then spans thread switches.
    for start in range(0, BALLAST, 25):
        client.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": "BALLAST"}, "sk": {"S": str(i)}, "body": {"S": "x" * 200}}}}
                    for i in range(start, min(start + 25, BALLAST))
                ]
            }
        )
    committed, unexpected = [], []

    def writer(worker: int) -> None:
        done = 0
        while done < INCREMENTS:
            n = int(client.get_item(TableName=table, Key=counter, ConsistentRead=True)["Item"]["n"]["N"])
            try:  # optimistic: add an item and move the counter on, only if nobody moved it meanwhile
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": table,
                                "ConditionExpression": "attribute_not_exists(pk)",
                                "Item": {"pk": {"S": "ITEM"}, "sk": {"S": f"{worker}-{done}"}},
                            }
                        },
                        {
                            "Update": {
                                "TableName": table,
                                "Key": counter,
                                "UpdateExpression": "SET n = :new",
                                "ConditionExpression": "n = :old",
                                "ExpressionAttributeValues": {":old": {"N": str(n)}, ":new": {"N": str(n + 1)}},
                            }
                        },
                    ]
                )
            except ClientError as e:
                reasons = {r.get("Code") for r in e.response.get("CancellationReasons", [])}
                if e.response["Error"]["Code"] != "TransactionCanceledException" or not reasons <= {
                    "None",
                    "ConditionalCheckFailed",
                    "TransactionConflict",
                }:
                    unexpected.append((e.response["Error"]["Code"], reasons))
                    return
                continue
            committed.append((worker, done))
            done += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert unexpected == []
    items = client.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "ITEM"}},
        ConsistentRead=True,
    )["Items"]
    final = int(client.get_item(TableName=table, Key=counter, ConsistentRead=True)["Item"]["n"]["N"])
    assert len(committed) == THREADS * INCREMENTS
    assert len(items) == THREADS * INCREMENTS, "a rollback erased committed items"
    assert final == THREADS * INCREMENTS, "a rollback erased committed counter moves"
