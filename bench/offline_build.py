"""Builds the Go and Rust peers of the benchmarks offline (imported by the bench/*/run.py
drivers). Standard library only.

A Go peer is one file on the standard library: `go build` in GOPATH mode (GO111MODULE=off), with
the toolchain as installed (GOTOOLCHAIN=local), no proxy, GOCACHE and GOPATH in the build tree.

A peer is a Cargo project whose .cargo/config.toml replaces crates.io with Debian's crate
directory (/usr/share/cargo/registry, filled by the librust-*-dev packages), so `cargo build
--release --offline` never touches the network. Cargo reads that config from the working
directory, so cargo runs inside a copy of the project in the build tree (Cargo.lock is written
next to the manifest, and a lock file from one cargo can break another: cargo 1.65, Debian 12's,
rejects the v4 lock files of recent cargo); the binaries go there too (CARGO_TARGET_DIR).
"""
import glob
import os
import shutil
import subprocess
import sys

DEBIAN_REGISTRY = "/usr/share/cargo/registry"


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def cargo_build(project, target_dir, binary, crates):
    """Builds `binary` of the Cargo project `project` into `target_dir`.

    `crates` maps a crate name to the Debian package that ships it, checked first so that a
    missing one is reported by package name. Returns (path, None) or (None, why)."""
    cargo = shutil.which("cargo")
    if not cargo:
        return None, "cargo not installed (Debian: cargo)"
    for crate, package in crates.items():
        if not glob.glob(os.path.join(DEBIAN_REGISTRY, crate + "-[0-9]*")):
            return None, f"crate {crate} not in {DEBIAN_REGISTRY} (Debian: {package})"
    # copytree keeps mtimes (copy2), so an unchanged project is not rebuilt.
    work = os.path.join(target_dir, "src-" + os.path.basename(project))
    for entry in ("Cargo.toml", ".cargo", "src"):
        src = os.path.join(project, entry)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(work, entry), dirs_exist_ok=True)
        else:
            os.makedirs(work, exist_ok=True)
            shutil.copy2(src, os.path.join(work, entry))
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir, CARGO_NET_OFFLINE="true")
    r = subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], cwd=work,
                       env=env, capture_output=True, text=True)
    path = os.path.join(target_dir, "release", binary)
    if r.returncode != 0 or not os.access(path, os.X_OK):
        _log(f"cargo build of {os.path.basename(project)} failed:\n" + r.stderr[-3000:])
        return None, "cargo build failed (see above)"
    return path, None


def go_build(src, dst, out):
    """Builds the Go file `src` into `dst` unless `dst` is newer; caches go under `out`.
    Returns (path, None) or (None, why)."""
    if os.access(dst, os.X_OK) and os.path.getmtime(dst) >= os.path.getmtime(src):
        return dst, None
    go = shutil.which("go")
    if not go:
        return None, "go not installed (Debian: golang-go)"
    env = dict(os.environ, GO111MODULE="off", GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="",
               GOCACHE=os.path.join(out, "gocache"), GOPATH=os.path.join(out, "gopath"))
    r = subprocess.run([go, "build", "-o", dst, src], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        _log(f"go build of {os.path.basename(src)} failed:\n" + r.stderr)
        return None, "go build failed (see above)"
    return dst, None
