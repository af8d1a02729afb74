"""ECR images as ECR keeps them, where moto does not:

- the digest is the sha256 of the image manifest as pushed. moto hashed the concatenated layer digests instead
  (and a random number when the manifest has no layers), so two builds differing only in their config blob, or
  any two layer-less test manifests, shared one digest;
- pushing an existing tag with another manifest moves the tag and leaves the old image in the repository,
  untagged (until a lifecycle rule expires it), as `docker push` does to ECR. moto deleted the old image.

`bin/backend/deploy` pins images by digest and diff/verify compare digests: a revision that pins the old image
keeps running it after a re-push, so the emulator must keep that image as ECR does.
"""

from __future__ import annotations

import hashlib

from moto.ecr.models import ECRBackend, Image, RepoTagMutability

_original_put_image = ECRBackend.put_image


def _create_digest(self) -> None:
    manifest = self.image_manifest if isinstance(self.image_manifest, str) else str(self.image_manifest)
    self._image_digest = "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def put_image(self, repository_name, image_manifest, image_tag, image_manifest_mediatype=None, digest=None):
    repository = self.repositories.get(repository_name)
    # only a plain MUTABLE repository moves a tag; moto's own checks refuse it in the immutable modes
    if repository is not None and repository.image_tag_mutability == RepoTagMutability.MUTABLE and image_tag:
        for image in repository.images:
            if image_tag in image.image_tags and image.image_manifest != image_manifest:
                image.remove_tag(image_tag)  # the tag moves; the image stays, untagged if that was its last tag
                if not image.image_tags:
                    image.image_tag = None
    return _original_put_image(
        self,
        repository_name,
        image_manifest,
        image_tag,
        image_manifest_mediatype=image_manifest_mediatype,
        digest=digest,
    )


def install() -> None:
    Image._create_digest = _create_digest
    ECRBackend.put_image = put_image
