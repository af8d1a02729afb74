"""ECR image digests as ECR computes them: the sha256 of the image manifest as pushed.

moto hashes the concatenated layer digests instead (and a random number when the manifest has no layers), so
two builds that differ only in their config blob, or any two layer-less test manifests, shared one digest,
and a tag re-pushed with another manifest could keep its old digest. `bin/backend/deploy` pins images by
digest and diff/verify compare digests, so the emulator must hand out the ones ECR would.
"""
from __future__ import annotations

import hashlib

from moto.ecr.models import Image


def _create_digest(self) -> None:
    manifest = self.image_manifest if isinstance(self.image_manifest, str) else str(self.image_manifest)
    self._image_digest = "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def install() -> None:
    Image._create_digest = _create_digest
