"""Everything about the package is in pyproject.toml except one thing pyproject cannot say:
the top-level assets/ folder (bundled model, icons, desktop files, licences) ships inside the
package as composer/assets, where composer.resources finds it with importlib.resources.

setuptools treats every folder of package data as a (namespace) package, so each folder under
assets/ is listed as one, and all of its files are its data."""

from pathlib import Path

from setuptools import find_packages, setup

ASSETS = Path(__file__).resolve().parent / "assets"
asset_packages = ["composer.assets"] + [
    "composer.assets." + ".".join(folder.relative_to(ASSETS).parts)
    for folder in sorted(ASSETS.rglob("*"))
    if folder.is_dir() and folder.name != "__pycache__"
]

setup(
    packages=[*find_packages(include=["composer", "composer.*"]), *asset_packages],
    package_dir={"composer.assets": "assets"},
    package_data={package: ["*"] for package in asset_packages},
)
