"""bin/ecs/*: operate and check a deployed service (status, logs, run-task, connect, rollback, scale, ...).

The operating commands take the shared flags of cruddur_kit.ecs.options (--cluster, --service, --region,
and --timeout/--interval where they wait); their logic lives in cruddur_kit.ecs.
"""
