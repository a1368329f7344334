#!/usr/bin/python3
"""Ctrl-C during a benchmark sweep keeps what was measured: the harness, given SIGINT once the first
benchmark is done, exits 130 and leaves a valid results file under the final name (no .partial) that
holds measured repetitions and lists the rest as interrupted.

usage: harness_interrupt_test.py PATH/TO/bpebench_harness"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HARNESS = sys.argv.pop(1) if len(sys.argv) > 1 else "build/dev/bpebench_harness"


class Interrupt(unittest.TestCase):
    def run_and_interrupt(self, sig):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "results.json")
            proc = subprocess.Popen(
                [HARNESS, "--corpora", "tinyshakespeare", "--vocab-sizes", "300", "--threads", "1",
                 "--repetitions", "5", "--min-time", "0.01", "--adversarial-max", "0", "--no-peers",
                 "--out", out],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            deadline = time.time() + 300
            err = []
            for line in proc.stderr:  # wait until the first benchmark is complete
                err.append(line)
                if "complete]" in line and "done " in line:
                    break
                self.assertLess(time.time(), deadline, "no benchmark completed:\n" + "".join(err))
            proc.send_signal(sig)
            rest = proc.stderr.read()
            status = proc.wait(timeout=300)
            self.assertEqual(status, 130, "".join(err) + rest)
            self.assertIn("interrupted", rest)
            self.assertFalse(os.path.exists(out + ".partial"))
            with open(out) as f:
                data = json.load(f)  # valid JSON under the final name
            runs = [b for b in data["benchmarks"] if b.get("run_type") != "aggregate"]
            measured = [b for b in runs if not b.get("error_occurred")]
            interrupted = [b for b in runs if b.get("error_message", "").startswith("interrupted")]
            self.assertGreater(len(measured), 0)
            self.assertGreater(len(interrupted), 0)
            self.assertIn("bpebench_git_commit", data["context"])

    def test_sigint(self):
        self.run_and_interrupt(signal.SIGINT)

    def test_sigterm(self):
        self.run_and_interrupt(signal.SIGTERM)


if __name__ == "__main__":
    unittest.main()
