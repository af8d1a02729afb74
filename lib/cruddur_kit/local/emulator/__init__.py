"""Extensions of the moto server that make the local emulator behave like AWS where moto does not.

Each module here installs itself from `cruddur_kit.local.moto.main()`; none is imported by the kit.
"""
