"""Containers on the local Docker engine: the engine itself, the images `make image` builds (the backend
image and the local stand-ins for images no registry serves here), and provisioning an engine in CI."""
