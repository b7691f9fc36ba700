# setuptools needs this file only to pass `cffi_modules`; metadata is in pyproject.toml.
from setuptools import setup

setup(cffi_modules=["_native/build.py:ffibuilder"])
