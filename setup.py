"""Packaging glue pyproject.toml cannot express (the rest is in pyproject.toml).

The repository keeps resources/ and plugins/ at the top level; a wheel ships them
inside the package as workbench/_resources and workbench/_plugins, where
workbench.resources and workbench.catalogue.plugins look for them when installed.
"""

from setuptools import find_packages, setup

PLUGIN_PACKAGES = [f"workbench._plugins.{name}" for name in find_packages("plugins")]

setup(
    packages=[*find_packages(include=["workbench", "workbench.*"]), "workbench._resources", "workbench._plugins",
              *PLUGIN_PACKAGES],
    package_dir={"workbench._resources": "resources", "workbench._plugins": "plugins"},
    # The style sheet, icons and built-in models (run folders); not the README's screenshots.
    package_data={"workbench._resources": ["*.qss", "*.svg", "*.png", "icons/*", "models/*/*"],
                  "workbench._plugins": ["**/*.json"]},
)
