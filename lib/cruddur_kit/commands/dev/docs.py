"""bin/dev/docs (`make docs`): the journal's generated blocks (lint's rules, the kit's commands) from the code."""

from __future__ import annotations

import click

from ... import docs
from ...cli import kit_command
from ...errors import KitError
from ...kit import Kit
from ...output import log


@kit_command(endpoint=False)  # no AWS calls
@click.option("--check", is_flag=True, help="change nothing; exit 1 naming each entry whose block is stale")
def command(kit: Kit, check: bool) -> None:
    """Regenerate each block the journal marks as generated (cruddur_kit.docs.BLOCKS) from the code it shows."""
    if check:
        stale = docs.stale()
        if stale:
            raise KitError(f"stale generated blocks in {', '.join(stale)}: run make docs")
        log("generated blocks: up to date")
        return
    written = docs.write()
    log(f"rewrote {', '.join(written)}" if written else "generated blocks: up to date")
