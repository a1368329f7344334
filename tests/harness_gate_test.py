#!/usr/bin/python3
"""The correctness gate of the sweep: an encoder that gives wrong ids (tests/wrong_encoder.cpp,
linked only into bpebench_harness_wrong) is reported as MISMATCH, is not timed, and makes the
harness exit with status 3; scripts/bench passes the failure on.

usage: harness_gate_test.py PATH/TO/bpebench_harness_wrong"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HARNESS = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else "build/dev/tests/bpebench_harness_wrong")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A small sweep: the reference and the wrong encoder, one vocabulary, no peers.
ARGS = ["--algorithms", "naive,wrong_for_tests", "--corpora", "gutenberg5", "--vocab-sizes", "1000", "--threads", "1", "--no-peers",
        "--production-vocabs", "none", "--adversarial-max", "0", "--repetitions", "1", "--min-time", "0.01"]


class Gate(unittest.TestCase):
    def test_a_wrong_encoder_is_a_mismatch_and_exit_status_3(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            r = subprocess.run([HARNESS, *ARGS, "--out", out], capture_output=True, text=True, timeout=600)
            self.assertEqual(r.returncode, 3, r.stderr[-3000:])
            self.assertIn("MISMATCH", r.stdout + r.stderr)
            with open(out) as f:
                data = json.load(f)
        wrong = [b for b in data["benchmarks"] if b["name"].startswith("encode/wrong_for_tests/")]
        self.assertTrue(wrong, "the wrong encoder's rows are missing")
        for b in wrong:  # recorded, never timed
            self.assertTrue(b.get("error_occurred"), b)
            self.assertIn("MISMATCH", b.get("error_message", ""))
        naive = [b for b in data["benchmarks"] if b["name"].startswith("encode/naive/")]
        self.assertTrue(naive and not any(b.get("error_occurred") for b in naive), naive)

    def test_scripts_bench_passes_the_failure_on(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, BPEBENCH_HARNESS=HARNESS)
            r = subprocess.run([os.path.join(ROOT, "scripts", "bench"), "--out-dir", tmp, *ARGS],
                               capture_output=True, text=True, env=env, timeout=600)
        self.assertEqual(r.returncode, 3, r.stderr[-3000:])


if __name__ == "__main__":
    unittest.main()
