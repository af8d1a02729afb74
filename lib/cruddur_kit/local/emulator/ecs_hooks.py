"""Deployment lifecycle hooks: PAUSE hooks wait for ContinueServiceDeployment, Lambda hooks get an answer.

ECS invokes a Lambda hook with the deployment's state and expects `{"hookStatus": SUCCEEDED | FAILED |
IN_PROGRESS, "callBackDelay": seconds}`; IN_PROGRESS means "ask me again after callBackDelay" (default 30 s),
FAILED (or an invocation that fails) rolls the deployment back. moto cannot run a function's code here, so
the emulator records each invocation with its payload (GET /moto-api/cruddur/ecs/lambda-hook-invocations)
and answers with the outcome registered for the function (POST /moto-api/cruddur/ecs/lambda-hook-outcomes);
with none registered, a function that exists in the emulator's Lambda answers SUCCEEDED and a missing one
fails the invocation (ResourceNotFoundException), as on AWS.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from moto.awslambda.models import lambda_backends
from moto.moto_api._internal import mock_random

from . import ecs_config
from .clock import CLOCK, timestamp

DEFAULT_CALLBACK_DELAY = 30


@dataclass
class LambdaOutcomes:
    outcomes: dict = field(default_factory=dict)  # function ARN or name -> {"hookStatus", "callBackDelay"}
    invocations: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, function: str, hook_status: str, callback_delay: int | None = None) -> None:
        with self.lock:
            self.outcomes[function] = {"hookStatus": hook_status, "callBackDelay": callback_delay}

    def clear(self) -> None:
        with self.lock:
            self.outcomes.clear()
            self.invocations.clear()

    def answer(self, arn: str) -> dict | None:
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        with self.lock:
            return self.outcomes.get(arn) or self.outcomes.get(name)

    def record(self, entry: dict) -> None:
        with self.lock:
            self.invocations.append(entry)

    def listing(self) -> list:
        with self.lock:
            return list(self.invocations)


LAMBDA_OUTCOMES = LambdaOutcomes()


def _function_exists(arn: str) -> bool:
    parts = arn.split(":")
    region, account = parts[3], parts[4]
    try:
        lambda_backends[account][region].get_function(arn)
        return True
    except Exception:  # moto's UnknownFunctionException, or a region moto does not know
        return False


@dataclass
class HookRun:
    """One hook at one stage of one deployment (a stage that repeats, such as a traffic shift step, runs it anew)."""

    hook: dict
    stage: str
    started: float
    expires: float
    timeout_action: str
    hook_id: str = field(default_factory=lambda: "hook-" + mock_random.get_random_string(length=20, lower_case=True))
    status: str = "IN_PROGRESS"
    next_invoke: float | None = None
    reason: str | None = None

    @property
    def pause(self) -> bool:
        return self.hook.get("targetType") == "PAUSE"

    @property
    def done(self) -> bool:
        return self.status == "SUCCEEDED" or (self.status == "TIMED_OUT" and self.timeout_action == "CONTINUE")

    @property
    def failed(self) -> bool:
        return self.status == "FAILED" or (self.status == "TIMED_OUT" and self.timeout_action == "ROLLBACK")

    def view(self) -> dict:
        out = {
            "hookId": self.hook_id,
            "targetType": self.hook.get("targetType"),
            "status": self.status,
            "expiresAt": timestamp(self.expires),
            "timeoutAction": self.timeout_action,
        }
        if not self.pause:
            out["targetArn"] = self.hook.get("hookTargetArn")
        return out

    def times(self) -> list[float]:
        return [t for t in (self.next_invoke, self.expires) if t is not None]

    def advance(self, t: float, payload: dict) -> bool:
        """Invoke or time out as due at t; True when the status changed."""
        if self.status not in ("IN_PROGRESS", "AWAITING_ACTION"):
            return False
        if t >= self.expires:
            self.status, self.reason = "TIMED_OUT", f"the {self.stage} hook timed out"
            return True
        if self.pause or self.next_invoke is None or t < self.next_invoke:
            return False
        arn = self.hook["hookTargetArn"]
        answer = LAMBDA_OUTCOMES.answer(arn)
        if answer is None:
            answer = (
                {"hookStatus": "SUCCEEDED"}
                if _function_exists(arn)
                else {"hookStatus": "FAILED", "error": f"ResourceNotFoundException: Function not found: {arn}"}
            )
        if self.hook.get("hookDetails") is not None:
            payload = {**payload, "hookDetails": self.hook["hookDetails"]}
        LAMBDA_OUTCOMES.record(
            {
                "functionArn": arn,
                "hookId": self.hook_id,
                "lifecycleStage": self.stage,
                "invokedAt": timestamp(t).isoformat(),
                "payload": payload,
                "answer": {k: v for k, v in answer.items() if v is not None},
            }
        )
        status = answer.get("hookStatus")
        if status == "SUCCEEDED":
            self.status, self.next_invoke = "SUCCEEDED", None
        elif status == "IN_PROGRESS":
            self.next_invoke = t + CLOCK.span(answer.get("callBackDelay") or DEFAULT_CALLBACK_DELAY)
            return False
        else:
            self.status, self.next_invoke = "FAILED", None
            self.reason = answer.get("error") or f"the {self.stage} hook {arn} returned {status or 'no hookStatus'}"
        return True

    def resolve(self, action: str) -> None:
        """ContinueServiceDeployment on a paused hook."""
        self.status = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
        if action != "CONTINUE":
            self.reason = f"ContinueServiceDeployment rolled the deployment back at the {self.stage} hook"


def runs_for(hooks: list[dict], stage: str, t: float) -> list[HookRun]:
    out = []
    for hook in hooks:
        if stage in (hook.get("lifecycleStages") or []):
            timeout = ecs_config.hook_timeout(hook)
            run = HookRun(hook, stage, t, t + CLOCK.span(timeout["timeoutInMinutes"] * 60), timeout["action"])
            if run.pause:
                run.status = "AWAITING_ACTION"
            else:
                run.next_invoke = t
            out.append(run)
    return out
