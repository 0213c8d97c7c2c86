"""The instruction-counting TCG plugin (insn_count.c) and the qemu-user that loads it.

The plugin API header, include/qemu/qemu-plugin.h, comes from the source of the qemu that runs
it: Debian 12's qemu, fetched with `apt-get source` through a private apt configuration (its
own lists and caches under the tflstm cache), pinned by sha256 like third_party/sources.lock.
Debian's dynamic qemu-user loads plugins (`-plugin FILE.so`); qemu-user-static cannot.

    python3 bench/arm_cost/qemu_plugin.py     # prints the plugin's path (built once, cached)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "third_party"))
from fetch import Entry, FetchError, PrivateApt, cache_root, log, sha256_of

# The orig tarball of the bookworm qemu that the host's qemu-user package is built from
# (1:7.2+dfsg-7+deb12uN keep the same upstream tarball).
QEMU = Entry(
    "qemu",
    "source",
    "qemu=1:7.2+dfsg-7+deb12u18",
    "bookworm",
    "qemu_7.2+dfsg.orig.tar.xz",
    "91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f",
)
QEMU_VERSION = "7.2"
HEADER = "include/qemu/qemu-plugin.h"
SOURCES = "Types: deb-src\nURIs: {mirror}\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: {keyring}\n"


def work_dir(cache: Path | None = None) -> Path:
    d = (cache or cache_root(None)) / "arm_cost"
    d.mkdir(parents=True, exist_ok=True)
    return d


def plugin_header(cache: Path | None = None) -> Path:
    """qemu-plugin.h of the pinned qemu source, extracted once into the cache."""
    work = work_dir(cache)
    dest = work / "qemu-include" / QEMU.sha256 / "qemu-plugin.h"
    if dest.is_file():
        return dest
    archive = work / "downloads" / QEMU.file
    if not (archive.is_file() and sha256_of(archive) == QEMU.sha256):
        archive.parent.mkdir(parents=True, exist_ok=True)
        apt = PrivateApt(work / "apt", sources=SOURCES, architectures=("amd64",))
        apt.update()
        log(f"downloading {QEMU.file} (apt-get source {QEMU.spec})")
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            apt.fetch_into(QEMU, Path(tmp))
            got = Path(tmp) / QEMU.file
            if not got.is_file():
                raise FetchError(f"{QEMU.file}: not obtainable as {QEMU.spec}")
            if sha256_of(got) != QEMU.sha256:
                raise FetchError(f"{QEMU.file}: sha256 {sha256_of(got)} does not match the pinned {QEMU.sha256}")
            shutil.move(str(got), archive)
    with tarfile.open(archive) as tf:
        member = next((m for m in tf.getmembers() if m.name.endswith("/" + HEADER)), None)
        if member is None:
            raise FetchError(f"{QEMU.file} holds no {HEADER}")
        data = tf.extractfile(member)
        assert data is not None
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp_dest = dest.with_suffix(".tmp")
        tmp_dest.write_bytes(data.read())
        tmp_dest.rename(dest)
    return dest


def qemu_user(arch: str) -> str:
    """Debian's dynamic qemu-user for `arch` (aarch64 or arm), which loads plugins."""
    exe = shutil.which(f"qemu-{arch}")
    if exe is None:
        raise FetchError(f"no qemu-{arch}: apt-get install qemu-user (Debian's dynamic build loads TCG plugins)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    if f"version {QEMU_VERSION}" not in out:
        raise FetchError(f"{exe} is not qemu {QEMU_VERSION} (the plugin API of the pinned header): {out.strip()}")
    return exe


def build_plugin(cache: Path | None = None) -> Path:
    """insn_count.so, compiled with the host's cc against the pinned header, cached by the
    hash of its source and header."""
    header = plugin_header(cache)
    source = HERE / "insn_count.c"
    key = hashlib.sha256(source.read_bytes() + header.read_bytes()).hexdigest()[:16]
    out = work_dir(cache) / "plugin" / f"insn_count-{key}.so"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise FetchError("no C compiler (cc) to build the plugin")
    tmp = out.with_suffix(".tmp.so")
    cmd = [cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"]
    subprocess.run([*cmd, "-I", str(header.parent), "-o", str(tmp), str(source)], check=True)
    tmp.rename(out)
    return out


if __name__ == "__main__":
    try:
        print(build_plugin())
    except (FetchError, subprocess.CalledProcessError, OSError, tarfile.TarError) as exc:
        print(f"arm_cost plugin: error: {exc}", file=sys.stderr)
        sys.exit(1)
