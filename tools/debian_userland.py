#!/usr/bin/env python3
"""A Debian 12 (bookworm) userland for an ARM target, from Debian's archive, for qemu-user.

It holds the target's own python3 (CPython 3.11), python3-numpy, python3-pytest, python3-pip, libstdc++6,
and libpython3.11-dev (the headers a cross-built extension needs). apt resolves the packages'
dependencies for the target architecture with a private configuration (its own lists,
status and caches under the tflstm cache; the mirror is the one this machine's apt uses),
downloads them, and dpkg-deb unpacks each into one folder. No maintainer script runs:
python3 under `qemu-<arch>-static -L ROOT ROOT/usr/bin/python3` needs none.

    python3 tools/debian_userland.py --arch arm64|armhf [--cache DIR]

Prints the root folder; ROOT/../include/python3.11 holds the target's Python headers for a
cross build. A second call with the same package set reuses it, offline.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "third_party"))
from fetch import FetchError, PrivateApt, cache_root, log

TRIPLES = {"arm64": "aarch64-linux-gnu", "armhf": "arm-linux-gnueabihf"}
# libstdc++6 is on every Debian system (apt needs it), but python3 does not pull it in.
PACKAGES = ("python3", "python3-numpy", "python3-pytest", "python3-pip", "libpython3.11-dev", "libstdc++6")
SOURCES = (
    "Types: deb\nURIs: {mirror}\nSuites: bookworm bookworm-updates\nComponents: main\n"
    "Architectures: ARCH\nSigned-By: {keyring}\n"
)


def build(arch: str, cache: Path) -> Path:
    base = cache / "userland" / arch
    root = base / "root"
    stamp = root / ".tflstm-packages"
    if stamp.is_file() and stamp.read_text().splitlines()[0] == " ".join(PACKAGES):
        return root
    apt = PrivateApt(base / "apt", sources=SOURCES.replace("ARCH", arch), architectures=(arch,), native=arch)
    apt.update()
    archives = base / "apt" / "cache" / "archives"
    log(f"resolving and downloading {' '.join(PACKAGES)} for {arch}")
    r = subprocess.run(
        ["apt-get", "-q", "-y", *apt.options(), "install", "--download-only", "--no-install-recommends", *PACKAGES],
        capture_output=True,
        text=True,
    )
    debs = sorted(archives.glob("*.deb"))
    if r.returncode != 0 or not debs:
        raise FetchError(
            f"apt could not download {' '.join(PACKAGES)} for {arch}:\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
        )
    tmp = Path(tempfile.mkdtemp(dir=base, prefix=".root-"))
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
    # The unpacked tree mirrors a merged-/usr system only if usrmerge ran: make /lib point to
    # /usr/lib (the dynamic loader's path) as bookworm does.
    for top in ("lib", "bin", "sbin"):
        if not (tmp / top).exists() and (tmp / "usr" / top).is_dir():
            (tmp / top).symlink_to(f"usr/{top}")
    # libblas3 and liblapack3 provide libblas.so.3 and liblapack.so.3 through alternatives,
    # which their postinst scripts would register: numpy needs those names.
    for lib in tmp.glob("usr/lib/*/*/lib*.so.3"):
        if lib.parent.name in ("blas", "lapack") and not (lib.parent.parent / lib.name).exists():
            (lib.parent.parent / lib.name).symlink_to(f"{lib.parent.name}/{lib.name}")
    versions = [deb.name for deb in debs]
    (tmp / ".tflstm-packages").write_text(" ".join(PACKAGES) + "\n" + "\n".join(versions) + "\n")
    if root.exists():
        shutil.rmtree(root)
    tmp.rename(root)
    python_headers(root, arch)
    log(f"{arch} userland: {len(debs)} packages in {root}")
    return root


def python_headers(root: Path, arch: str) -> Path:
    """The target's Python headers in one folder, next to ROOT: Debian's pyconfig.h only picks
    the architecture's own one from /usr/include/<triple>/, which a cross build must not put on
    its include path (the target's libc headers are there too)."""
    dest = root.parent / "include" / "python3.11"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(root / "usr" / "include" / "python3.11", dest, symlinks=False)
    shutil.copy2(root / "usr" / "include" / TRIPLES[arch] / "python3.11" / "pyconfig.h", dest / "pyconfig.h")
    return dest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=("arm64", "armhf"))
    p.add_argument("--cache", help="cache folder (default $TFLSTM_CACHE or ~/.cache/tflstm)")
    args = p.parse_args(argv)
    try:
        print(build(args.arch, cache_root(args.cache)))
    except (FetchError, subprocess.CalledProcessError, OSError) as exc:
        print(f"tflstm userland: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
