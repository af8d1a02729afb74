"""diff's normalisation: both sides made comparable before comparing (ecspresso's diff, done our way)."""

from cruddur_kit.checks.diff import normalise_service, unified
from cruddur_kit.ecs.taskdef import normalise as normalise_task_definition


def test_units_defaults_order_and_nulls_do_not_make_a_difference():
    local = {
        "family": "f",
        "cpu": "1 vCPU",
        "memory": "2 GB",
        "containerDefinitions": [
            {
                "name": "app",
                "image": "i:1",
                "portMappings": [{"containerPort": 80}],
                "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
                "healthCheck": None,
            }
        ],
    }
    deployed = {
        "family": "f",
        "cpu": "1024",
        "memory": "2048",
        "revision": 7,
        "status": "ACTIVE",
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/f:7",
        "compatibilities": ["EC2"],
        "containerDefinitions": [
            {
                "name": "app",
                "image": "i:1",
                "essential": True,
                "cpu": 0,
                "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
                "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "mountPoints": [],
                "volumesFrom": [],
            }
        ],
    }
    assert unified(normalise_task_definition(deployed), normalise_task_definition(local), "td") == []


def test_a_real_change_shows_as_a_unified_diff():
    a = normalise_task_definition({"family": "f", "cpu": "256", "memory": "512", "containerDefinitions": []})
    b = normalise_task_definition({"family": "f", "cpu": "256", "memory": "1 GB", "containerDefinitions": []})
    lines = unified(a, b, "td")
    assert '-  "memory": "512"' in lines and '+  "memory": "1024"' in lines


def test_service_compares_family_not_revision_and_fills_defaults():
    deployed = {
        "serviceName": "s",
        "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/s:12",
        "desiredCount": 2,
        "schedulingStrategy": "REPLICA",
        "propagateTags": "NONE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["b", "a"], "securityGroups": ["g"]}},
    }
    local = {
        "serviceName": "s",
        "taskDefinition": "s",
        "desiredCount": 2,
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["a", "b"], "securityGroups": ["g"]}},
    }
    assert normalise_service(deployed) == normalise_service(local)


def test_a_reordered_command_is_a_change_but_reordered_secrets_are_not():
    def td(command, secrets):
        return {
            "family": "f",
            "networkMode": "awsvpc",
            "containerDefinitions": [{"name": "app", "image": "i:1", "command": command, "secrets": secrets}],
        }

    a, b = [{"name": "A", "valueFrom": "/a"}], [{"name": "B", "valueFrom": "/b"}]
    assert normalise_task_definition(td(["x", "y"], a + b)) == normalise_task_definition(td(["x", "y"], b + a))
    lines = unified(normalise_task_definition(td(["x", "y"], a)), normalise_task_definition(td(["y", "x"], a)), "td")
    assert lines and any(line.startswith("+") and '"y"' in line for line in lines)


def test_bridge_mode_keeps_an_omitted_host_port_dynamic():
    def td(mode, port):
        return {
            "family": "f",
            "networkMode": mode,
            "containerDefinitions": [{"name": "app", "image": "i:1", "portMappings": [port]}],
        }

    assert normalise_task_definition(td("bridge", {"containerPort": 80})) == normalise_task_definition(
        td("bridge", {"containerPort": 80, "hostPort": 0})
    )
    assert normalise_task_definition(td("awsvpc", {"containerPort": 80})) == normalise_task_definition(
        td("awsvpc", {"containerPort": 80, "hostPort": 80})
    )
