"""Shipping and operating ECS services: deploy, bounded waits with progress, tasks, exec.

The commands in cruddur_kit.commands.{backend,ecs} are thin: they parse flags (ecs.options) and call
the functions here, which take boto3 clients so tests can point them at the emulator or a Stubber.
"""
