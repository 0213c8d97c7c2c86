"""The wheels that run in the guest's Python, unpacked into site folders on its PYTHONPATH:
the peers' aarch64 wheels pinned in wheels.lock (downloaded with pip for the aarch64
manylinux platforms; manylinux2014 alone finds none of them), and tflstm's own wheel from
dist/ (tools/build_wheels.sh). Their dependencies are Debian's python3-numpy in the userland;
the modules they import beyond it are not needed for inference."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLATFORMS = ("manylinux_2_27_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lock() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in (HERE / "wheels.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version, file, sha = line.split()
            rows.append((name, version, file, sha))
    return rows


def unpack(wheels: list[Path], site: Path) -> Path:
    """Unzips the wheels into `site` (once per set of wheels: a stamp holds their hashes)."""
    key = "\n".join(sorted(_sha256(w) for w in wheels))
    stamp = site / ".wheels"
    if stamp.is_file() and stamp.read_text() == key:
        return site
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    for w in wheels:
        with zipfile.ZipFile(w) as z:
            z.extractall(site)
    stamp.write_text(key)
    return site


def peers_site(work: Path) -> Path:
    """The peers' wheels, downloaded once into work/wheels and unpacked into work/site-peers."""
    downloads = work / "wheels"
    downloads.mkdir(parents=True, exist_ok=True)
    wheels = []
    for name, version, file, sha in _lock():
        path = downloads / file
        if not (path.is_file() and _sha256(path) == sha):
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps"]
            for p in PLATFORMS:
                cmd += ["--platform", p]
            cmd += ["--python-version", "3.11", "-d", str(downloads), f"{name}=={version}"]
            subprocess.run(cmd, check=True)
            if not path.is_file() or _sha256(path) != sha:
                raise RuntimeError(f"{file}: not downloaded, or its sha256 is not the pinned {sha}")
        wheels.append(path)
    return unpack(wheels, work / "site-peers")


def tflstm_site(work: Path, suffix: str, root: Path) -> Path | None:
    """tflstm's wheel for a target (wheel platform suffix aarch64 or armv7l) from dist/, or None."""
    found = sorted((root / "dist").glob(f"tflstm-*-cp311-cp311-manylinux_*_{suffix}.whl"))
    return unpack(found[-1:], work / f"site-tflstm-{suffix}") if found else None
