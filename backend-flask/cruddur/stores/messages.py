"""Direct messages in DynamoDB (single table; the definition lives in cruddur_kit.ddb).

  conversation row  pk=GRP#<my uuid>        sk=GRP#<group uuid>   one per participant, describes the OTHER one
                    last_sk=<ts>#<msg uuid> message=<last text>   (inbox-index: pk + last_sk, newest first)
  message row       pk=MSG#<group uuid>     sk=<ts>#<msg uuid>    describes the sender
  pair row          pk=PAIR#<a>#<b>         sk=PAIR               a < b: the pair's conversation, found in O(1)

Timestamps are UTC ISO-8601 with microseconds (fixed width, so they sort as strings); the message uuid
in the sort key makes two messages in the same microsecond distinct.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from flask import current_app

from ..aws import dynamodb
from ..errors import Conflict, Unavailable, ValidationFailed

INBOX_INDEX = "inbox-index"  # must match cruddur_kit.ddb.INBOX_INDEX (a test checks it)
APPEND_ATTEMPTS = 3
# A transaction whose answer was lost (a read timeout, a dropped connection, after boto3's own retries) is
# sent again as it was, with the same ClientRequestToken, up to this many single tries, RESEND_PAUSE apart
# (doubling): DynamoDB applies it once. A DynamoDB that hangs costs a send RESENDS read timeouts more.
RESENDS = 3
RESEND_PAUSE = 0.1
_TOKENS = uuid.UUID("5d1b2c6e-3f0a-4b8e-9c1d-7e2f4a6b8c0d")  # namespace: a transaction's token from its message key
MAYBE_SENT = "the message may have been sent: look at the conversation before sending it again"


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _sort_key(created_at: str, message_uuid: str) -> str:
    return f"{created_at}#{message_uuid}"


def _split_sort_key(sk: str) -> tuple[datetime, str]:
    created_at, message_uuid = sk.split("#", 1)
    moment = datetime.fromisoformat(created_at)
    if moment.tzinfo is None:
        raise ValueError("naive timestamp")
    return moment, str(uuid.UUID(message_uuid))


def grp_key(user_uuid: str, group_uuid: str) -> dict:
    return {"pk": {"S": f"GRP#{user_uuid}"}, "sk": {"S": f"GRP#{group_uuid}"}}


def pair_key(a: str, b: str) -> dict:
    low, high = sorted((a, b))
    return {"pk": {"S": f"PAIR#{low}#{high}"}, "sk": {"S": "PAIR"}}


def _s(item: dict, name: str) -> str:
    return item[name]["S"]


def _cancel_reasons(e: ClientError) -> set[str]:
    """Why a transaction was cancelled; throttling (after boto3's retries) is a 503, not a conflict."""
    reasons = {r.get("Code", "None") for r in e.response.get("CancellationReasons", [])}
    if reasons & {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}:
        raise Unavailable("dynamodb_unavailable") from e
    return reasons


@dataclass(frozen=True)
class User:
    uuid: str
    handle: str
    display_name: str

    @classmethod
    def of(cls, row: dict) -> User:
        return cls(str(row["uuid"]), row["handle"], row["display_name"])


class MessageStore:
    """The messages table's access patterns; every method is one bounded set of DynamoDB calls."""

    def __init__(self, client, table: str, single_try=None):
        self.client = client
        self.single_try = single_try or client  # for resends (see _transact)
        self.table = table

    # -- reads -------------------------------------------------------------------------------------------

    def conversation(self, user_uuid: str, group_uuid: str) -> dict | None:
        """My row for the conversation, or None when I am not a participant (one GetItem)."""
        item = self.client.get_item(TableName=self.table, Key=grp_key(user_uuid, group_uuid), ConsistentRead=True).get(
            "Item"
        )
        return self._group(item) if item else None

    def pair_group(self, a: str, b: str) -> str | None:
        item = self.client.get_item(TableName=self.table, Key=pair_key(a, b), ConsistentRead=True).get("Item")
        return _s(item, "message_group_uuid") if item else None

    def list_conversations(self, user_uuid: str, limit: int, cursor: Any = None) -> tuple[list[dict], Any]:
        """My conversations, the most recently active first (one Query on inbox-index)."""
        pk = f"GRP#{user_uuid}"
        args = {
            "TableName": self.table,
            "IndexName": INBOX_INDEX,
            "Limit": limit,
            "ScanIndexForward": False,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        if cursor is not None:
            args["ExclusiveStartKey"] = self._start_key(cursor, pk, ("pk", "sk", "last_sk"))
        result = self.client.query(**args)
        return [self._group(i) for i in result.get("Items", [])], self._cursor(result)

    def list_messages(self, group_uuid: str, limit: int, cursor: Any = None) -> tuple[list[dict], Any]:
        """A page of the conversation going back in time, returned oldest first (one Query)."""
        pk = f"MSG#{group_uuid}"
        args = {
            "TableName": self.table,
            "Limit": limit,
            "ScanIndexForward": False,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        if cursor is not None:
            args["ExclusiveStartKey"] = self._start_key(cursor, pk, ("pk", "sk"))
        result = self.client.query(**args)
        items = [self._message(i) for i in result.get("Items", [])]
        items.reverse()
        return items, self._cursor(result)

    # -- writes ------------------------------------------------------------------------------------------

    def _transact(self, items: list[dict], sk: str) -> None:
        """TransactWriteItems, applied at most once however often it is sent. Its token is derived from the
        message's sort key, so the same request always carries the same token and another request another.
        A lost answer leaves the outcome unknown: the same request goes again (RESENDS), and DynamoDB
        answers a repeat of an applied one with success, writing nothing. Raises ClientError for a definite
        refusal (nothing was written), or Unavailable when the outcome stays unknown."""
        token = str(uuid.uuid5(_TOKENS, sk))
        client = self.client
        for resend in range(RESENDS + 1):
            try:
                client.transact_write_items(TransactItems=items, ClientRequestToken=token)
                return
            except HTTPClientError as e:
                if resend == RESENDS:
                    raise Unavailable("dynamodb_unavailable", message=MAYBE_SENT) from e
            time.sleep(RESEND_PAUSE * 2**resend)
            client = self.single_try

    def start(self, sender: User, receiver: User, text: str, message_uuid: str | None = None) -> tuple[str, dict, bool]:
        """Send `text` to `receiver`, in the pair's conversation, creating it if it does not exist yet.

        Returns (group uuid, the message, created). Creation is one transaction (pair row, both
        conversation rows, the first message); a concurrent start by either side reuses its winner. The
        message keeps one uuid however often it is tried (`message_uuid`, or a new one).
        """
        message_uuid = message_uuid or str(uuid.uuid4())
        existing = self.pair_group(sender.uuid, receiver.uuid)
        if existing:
            return existing, self.append(existing, sender, receiver.uuid, text, message_uuid=message_uuid), False
        group_uuid = str(uuid.uuid4())
        message = self._new_message(sender, text, _now(), message_uuid)
        sk = _sort_key(message["created_at"], message["uuid"])
        try:
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "Item": {
                                **pair_key(sender.uuid, receiver.uuid),
                                "message_group_uuid": {"S": group_uuid},
                                "created_at": {"S": message["created_at"]},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "Item": self._group_item(sender.uuid, group_uuid, receiver, sk, text),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "Item": self._group_item(receiver.uuid, group_uuid, sender, sk, text),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "Item": self._message_item(group_uuid, sk, message),
                        }
                    },
                ],
                sk,
            )
        except ClientError as e:
            if e.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            _cancel_reasons(e)
            winner = self.pair_group(sender.uuid, receiver.uuid)  # someone started it a moment before us
            if winner is None:
                raise Conflict("message_conflict", message="try again") from e
            return winner, self.append(winner, sender, receiver.uuid, text, message_uuid=message_uuid), False
        return group_uuid, message, True

    def append(
        self,
        group_uuid: str,
        sender: User,
        other_uuid: str,
        text: str,
        mine: dict | None = None,
        message_uuid: str | None = None,
    ) -> dict:
        """Append a message; the message and both conversation rows change in one transaction.

        `last_sk < :sk` keeps the conversation rows pointing at the newest message when two appends
        race: the loser re-reads and retries with a later timestamp (bounded), then answers 409. Every try
        is the same message (one uuid); a refused try wrote nothing, so a later one cannot make a copy.
        """
        message_uuid = message_uuid or str(uuid.uuid4())
        for attempt in range(APPEND_ATTEMPTS):
            if mine is None or attempt:
                mine = self.conversation(sender.uuid, group_uuid)
                if mine is None:
                    raise Conflict("message_group_gone")
            moment = _now()
            last_moment, _ = _split_sort_key(mine["last_sk"])
            if moment <= last_moment:  # a clock behind the last message: keep the conversation ordered
                moment = last_moment + timedelta(microseconds=1)
            message = self._new_message(sender, text, moment, message_uuid)
            sk = _sort_key(message["created_at"], message["uuid"])
            update = {
                "TableName": self.table,
                "UpdateExpression": "SET last_sk = :sk, message = :m, last_message_at = :at",
                "ConditionExpression": "attribute_exists(pk) AND last_sk < :sk",
                "ExpressionAttributeValues": {":sk": {"S": sk}, ":m": {"S": text}, ":at": {"S": message["created_at"]}},
            }
            try:
                self._transact(
                    [
                        {
                            "Put": {
                                "TableName": self.table,
                                "ConditionExpression": "attribute_not_exists(pk)",
                                "Item": self._message_item(group_uuid, sk, message),
                            }
                        },
                        {"Update": {**update, "Key": grp_key(sender.uuid, group_uuid)}},
                        {"Update": {**update, "Key": grp_key(other_uuid, group_uuid)}},
                    ],
                    sk,
                )
                return message
            except ClientError as e:
                if e.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = _cancel_reasons(e)
                if reasons and not reasons <= {"None", "ConditionalCheckFailed", "TransactionConflict"}:
                    raise
        raise Conflict("message_conflict", message="the conversation is busy: try again")

    # -- shapes ------------------------------------------------------------------------------------------

    @staticmethod
    def _new_message(sender: User, text: str, moment: datetime, message_uuid: str) -> dict:
        return {
            "uuid": message_uuid,
            "user_uuid": sender.uuid,
            "handle": sender.handle,
            "display_name": sender.display_name,
            "message": text,
            "created_at": _ts(moment),
        }

    @staticmethod
    def _message_item(group_uuid: str, sk: str, message: dict) -> dict:
        return {
            "pk": {"S": f"MSG#{group_uuid}"},
            "sk": {"S": sk},
            "message_group_uuid": {"S": group_uuid},
            "message_uuid": {"S": message["uuid"]},
            "message": {"S": message["message"]},
            "user_uuid": {"S": message["user_uuid"]},
            "user_handle": {"S": message["handle"]},
            "user_display_name": {"S": message["display_name"]},
            "created_at": {"S": message["created_at"]},
        }

    @staticmethod
    def _group_item(owner_uuid: str, group_uuid: str, other: User, last_sk: str, text: str) -> dict:
        created_at = last_sk.split("#", 1)[0]
        return {
            **grp_key(owner_uuid, group_uuid),
            "last_sk": {"S": last_sk},
            "message_group_uuid": {"S": group_uuid},
            "message": {"S": text},
            "user_uuid": {"S": other.uuid},
            "user_handle": {"S": other.handle},
            "user_display_name": {"S": other.display_name},
            "last_message_at": {"S": created_at},
            "created_at": {"S": created_at},
        }

    @staticmethod
    def _group(item: dict) -> dict:
        return {
            "uuid": _s(item, "message_group_uuid"),
            "user_uuid": _s(item, "user_uuid"),
            "handle": _s(item, "user_handle"),
            "display_name": _s(item, "user_display_name"),
            "message": _s(item, "message"),
            "created_at": _s(item, "last_message_at"),
            "last_sk": _s(item, "last_sk"),
        }

    @staticmethod
    def _message(item: dict) -> dict:
        return {
            "uuid": _s(item, "message_uuid"),
            "user_uuid": _s(item, "user_uuid"),
            "handle": _s(item, "user_handle"),
            "display_name": _s(item, "user_display_name"),
            "message": _s(item, "message"),
            "created_at": _s(item, "created_at"),
        }

    # -- cursors: the LastEvaluatedKey, checked to belong to this query before it reaches DynamoDB ----------

    @staticmethod
    def _cursor(result: dict) -> dict | None:
        key = result.get("LastEvaluatedKey")
        return {name: value["S"] for name, value in key.items()} if key else None

    @staticmethod
    def _start_key(cursor: Any, pk: str, names: tuple[str, ...]) -> dict:
        try:
            if not isinstance(cursor, dict) or set(cursor) != set(names) or cursor["pk"] != pk:
                raise ValueError("cursor of another query")
            if not all(isinstance(cursor[n], str) for n in names):
                raise ValueError("not strings")
            if "last_sk" in names:
                _split_sort_key(cursor["last_sk"])
                if not cursor["sk"].startswith("GRP#"):
                    raise ValueError("not a conversation row")
                uuid.UUID(cursor["sk"][4:])
            else:
                _split_sort_key(cursor["sk"])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed(["cursor_invalid"]) from None
        return {n: {"S": cursor[n]} for n in names}


def store() -> MessageStore:
    """The store for this app's table and client."""
    return MessageStore(dynamodb(), current_app.config["SETTINGS"].ddb_message_table, dynamodb(single_try=True))
