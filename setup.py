"""Packages for setuptools: the code under gazenet_app/ plus the top-level models/ and resources/ installed as
gazenet_app.models and gazenet_app.resources (pyproject's packages.find cannot list a mapped package)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["gazenet_app", "gazenet_app.*"]) + ["gazenet_app.models",
                                                                          "gazenet_app.resources"],
    package_dir={"gazenet_app.models": "models", "gazenet_app.resources": "resources"},
)
