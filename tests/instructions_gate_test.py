#!/usr/bin/python3
"""The instruction-count gate (scripts/compare --instructions) on real builds of this checkout.

Two scratch copies of the tree are built with the `count` preset in other folders: one as it is, one
with about 3% more work injected into the `cached` encoder's hot path (a few instructions per cache
hit). The counting sweep (a small one: the linked trainer and the cached encoder on gutenberg5) then
runs on the given harness, built here, and on both copies:
  - the same commit built in two folders counts the same: instructions within 0.1% on every
    benchmark, est_cycles within 0.1% wherever the simulated cache misses are not a handful;
  - the gate passes between them (no injection);
  - the gate fails with the injection, and every benchmark it names is one of cached's.
The copies are built under build/ through ccache when it is installed (scripts/setup installs it),
with paths taken relative to each tree, so they share objects with each other and, where CCACHE_DIR
names the cache the given harness was built through (scripts/test does), with it: then only the
changed file compiles.

usage: instructions_gate_test.py PATH/TO/build/count/bpebench_harness"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HARNESS = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else "build/count/bpebench_harness")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = ["--measure", "instructions", "--algorithms", "linked,cached", "--corpora", "gutenberg5",
        "--production-vocabs", "none"]
TARGET = os.path.join("algorithms", "encoders", "cached.cpp")
INJECT_AFTER = "        ++hits_;\n"
# 12 instructions per cache hit: +2.9% instructions for the warm encoder on gutenberg5 at vocab 1000
# (cold rows and larger vocabularies, with fewer hits per byte, grow less).
INJECTION = '        asm volatile("nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop");  // injected by the test\n'
# est_cycles of a benchmark with only a few simulated cache misses moves with where the data before
# it landed: 50 L1 misses more or less are 500 estimated cycles. Such rows are held to instructions.
MIN_MISSES_FOR_EST = 1000


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"],
                             capture_output=True, check=True).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if x not in (".git", "build", "node_modules")]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return files


def copy_tree(dest):
    # A clone of the same commit (so the results' context, the commit among it, is the same length:
    # a string of another length moves where later data lands), then this checkout's files over it.
    if os.path.isdir(os.path.join(ROOT, ".git")):
        subprocess.run(["git", "clone", "-q", "--no-checkout", "--shared", ROOT, dest], check=True)
    for f in tracked_files():
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, f))


def build(tree, env):
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    for cmd in (["cmake", "--preset", "count", *launcher], ["cmake", "--build", "--preset", "count"]):
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=1200)
        if r.returncode != 0:
            raise RuntimeError("{} in {} failed:\n{}".format(" ".join(cmd), tree, (r.stdout + r.stderr)[-3000:]))
    return os.path.join(tree, "build", "count", "bpebench_harness")


def count(harness, out, env):
    r = subprocess.run([harness, *ARGS, "--out", out], env=env, capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        raise RuntimeError("{} failed ({}):\n{}".format(harness, r.returncode, r.stderr[-3000:]))
    with open(out) as f:
        return {b["name"].split("/iterations:")[0]: b for b in json.load(f)["benchmarks"]}


def compare(old, new):
    return subprocess.run([os.path.join(ROOT, "scripts", "compare"), "--instructions", old, new],
                          capture_output=True, text=True, timeout=120)


class Gate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="gate-test-", dir=os.path.join(ROOT, "build"))
        # A tree under ROOT compiles with the paths of one under cls.tmp, relative to its build folder.
        env = dict(os.environ, CCACHE_BASEDIR=ROOT, CCACHE_NOHASHDIR="1",
                   CCACHE_DIR=os.environ.get("CCACHE_DIR") or os.path.join(cls.tmp, "ccache"))
        # The copies have no ../shared and no node_modules beside them: read this checkout's.
        corpora = os.environ.get("BPEBENCH_CORPORA") or os.path.join(os.path.dirname(ROOT), "shared", "corpora")
        env["BPEBENCH_CORPORA"] = corpora
        env["BPEBENCH_TIKTOKEN_DIR"] = os.environ.get("BPEBENCH_TIKTOKEN_DIR") or os.path.join(
            ROOT, "harness", "peers", "node_modules", "tiktoken", "encoders")
        clean, injected = os.path.join(cls.tmp, "clean", "p"), os.path.join(cls.tmp, "injected", "p")
        copy_tree(clean)
        copy_tree(injected)
        path = os.path.join(injected, TARGET)
        with open(path) as f:
            source = f.read()
        if source.count(INJECT_AFTER) != 1:
            raise RuntimeError("the injection point {!r} is not in {} once: update this test".format(INJECT_AFTER, TARGET))
        with open(path, "w") as f:
            f.write(source.replace(INJECT_AFTER, INJECT_AFTER + INJECTION))
        cls.files = {name: os.path.join(cls.tmp, name + ".json") for name in ("here", "clean", "injected")}
        cls.counts = {"here": count(HARNESS, cls.files["here"], env)}
        cls.counts["clean"] = count(build(clean, env), cls.files["clean"], env)
        cls.counts["injected"] = count(build(injected, env), cls.files["injected"], env)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_the_same_commit_in_two_folders_counts_the_same(self):
        here, clean = self.counts["here"], self.counts["clean"]
        self.assertEqual(sorted(here), sorted(clean))
        self.assertGreater(len(here), 15)
        held_to_est = 0
        for name in here:
            a, b = here[name], clean[name]
            self.assertNotIn("error_message", b, name)
            self.assertLessEqual(abs(b["instructions"] / a["instructions"] - 1), 0.001, name)
            if a["l1_misses"] >= MIN_MISSES_FOR_EST:
                held_to_est += 1
                self.assertLessEqual(abs(b["est_cycles"] / a["est_cycles"] - 1), 0.001, name)
        self.assertGreater(held_to_est, 8)

    def test_the_gate_passes_without_the_injection(self):
        r = compare(self.files["here"], self.files["clean"])
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
        self.assertIn("gate passed", r.stdout)

    def test_the_gate_fails_on_the_injection_and_names_the_encoder(self):
        r = compare(self.files["here"], self.files["injected"])
        self.assertEqual(r.returncode, 1, r.stdout[-3000:] + r.stderr)
        problems = r.stdout.split("gate FAILED", 1)[1].splitlines()[1:]
        named = [p.strip().split(": ", 1)[0] for p in problems if p.strip()]
        self.assertTrue(named)
        for name in named:  # only cached's rows, nothing it does not run
            self.assertEqual(name.split("/")[1].split(":")[0], "cached", name)
        self.assertIn("encode/cached:warm/gutenberg5/vocab:1000/threads:1", named)
        # The injection is about 3% where cache hits dominate: not a gross change.
        warm = "encode/cached:warm/gutenberg5/vocab:1000/threads:1"
        growth = self.counts["injected"][warm]["instructions"] / self.counts["here"][warm]["instructions"] - 1
        print("\ninjected work on {}: {:+.2%} instructions".format(warm, growth), file=sys.stderr)
        self.assertGreater(growth, 0.02)
        self.assertLess(growth, 0.06)


if __name__ == "__main__":
    unittest.main()
