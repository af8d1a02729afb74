"""CloudWatch Logs FilterLogEvents with `logStreamNamePrefix`, as AWS answers it.

moto 5.2.5 ignores `logStreamNamePrefix` and searches every stream of the group, so a search for one
container's streams (awslogs names them PREFIX/CONTAINER/TASK-ID) returned the other containers' events too —
doctor reported the app's errors under the X-Ray sidecar. AWS searches only the streams whose names start with
the prefix, and refuses a request that names both `logStreamNames` and `logStreamNamePrefix`
(InvalidParameterException; FilterLogEvents in the CloudWatch Logs API reference).
"""

from __future__ import annotations

import json

from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse

_original = LogsResponse.filter_log_events


def filter_log_events(self) -> str:
    prefix = self._get_param("logStreamNamePrefix")
    if not prefix:
        return _original(self)
    if self._get_param("logStreamNames"):
        raise InvalidParameterException(msg="logStreamNames and logStreamNamePrefix cannot both be specified")
    group_name = self._get_param("logGroupName")
    group = self.logs_backend.groups.get(group_name)
    names = sorted(name for name in group.streams if name.startswith(prefix)) if group else []
    if group is not None and not names:  # no stream matches: nothing to search (moto would search them all)
        return json.dumps({"events": [], "searchedLogStreams": []})
    events, next_token, searched = self.logs_backend.filter_log_events(
        group_name,
        names,
        self._get_param("startTime"),
        self._get_param("endTime"),
        self._get_param("limit"),
        self._get_param("nextToken"),
        self._get_param("filterPattern"),
        self._get_param("interleaved", False),
    )
    return json.dumps({"events": events, "nextToken": next_token, "searchedLogStreams": searched})


def install() -> None:
    LogsResponse.filter_log_events = filter_log_events
