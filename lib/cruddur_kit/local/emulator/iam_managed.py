"""AWS managed IAM policies newer than moto's bundled list, so attaching them works as on AWS.

moto 5.2.5's list predates ECS blue/green (July 2025): `AmazonECSInfrastructureRolePolicyForLoadBalancers`,
which the role ECS assumes to shift load-balancer traffic carries, is missing and AttachRolePolicy answers
NoSuchEntity. The document below holds the first statements of the policy as the AWS Managed Policy
reference prints it (v6); the emulator does not evaluate IAM, so only the name and ARN matter here.
"""

from __future__ import annotations

import json

ECS_LOAD_BALANCERS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ELBReadOperations",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "Resource": "*",
        },
        {
            "Sid": "TargetGroupOperations",
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            "Resource": "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
        },
        {
            "Sid": "ALBModifyListeners",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:ModifyListener",
            "Resource": ["arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*"],
        },
        {
            "Sid": "NLBModifyListeners",
            "Effect": "Allow",
            "Action": "elasticloadbalancing:ModifyListener",
            "Resource": ["arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*"],
        },
    ],
}

NEWER = {
    "AmazonECSInfrastructureRolePolicyForLoadBalancers": {
        "CreateDate": "2025-07-17T16:37:00+00:00",
        "UpdateDate": "2026-02-12T18:01:00+00:00",
        "DefaultVersionId": "v6",
        "Path": "/",
        "Document": ECS_LOAD_BALANCERS,
    },
}


def install() -> None:
    from moto.iam import models

    known = json.loads(models.aws_managed_policies_data)
    models.aws_managed_policies_data = json.dumps({**known, **{k: v for k, v in NEWER.items() if k not in known}})
