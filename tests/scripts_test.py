#!/usr/bin/python3
"""Tests of the results tools: scripts/compare flags a real slowdown and nothing else, and
scripts/plot.py draws the four figures and the CSV from the committed baseline."""
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
BASELINE = os.path.join(ROOT, "results", "baseline", "results.json")


def fake_results(times_ms, seed):
    """A results file with 9 repetitions per benchmark around the given median times."""
    rng = random.Random(seed)
    benchmarks = []
    for name, ms in times_ms.items():
        for rep in range(9):
            benchmarks.append({
                "name": name + "/min_time:0.200/repeats:9/real_time", "run_type": "iteration",
                "repetition_index": rep, "iterations": 10, "time_unit": "ms",
                "real_time": ms * rng.uniform(0.98, 1.02), "cpu_time": ms})
    return {"context": {"bpebench_git_commit": "0" * 40, "bpebench_cpu_model": "test CPU"},
            "benchmarks": benchmarks}


class Compare(unittest.TestCase):
    def run_compare(self, *files, extra=()):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i, data in enumerate(files):
                paths.append(os.path.join(d, "r{}.json".format(i)))
                with open(paths[-1], "w") as f:
                    json.dump(data, f)
            return subprocess.run([sys.executable, os.path.join(SCRIPTS, "compare"), *paths, *extra],
                                  capture_output=True, text=True)

    TIMES = {"encode/naive/c/vocab:1000/threads:1": 50.0, "encode/heap/c/vocab:1000/threads:1": 10.0,
             "encode/rank/c/vocab:1000/threads:1": 5.0, "train/pq/c/vocab:1000/threads:1": 20.0}

    def test_unchanged_tree_has_no_regression(self):
        r = self.run_compare(fake_results(self.TIMES, 1), fake_results(self.TIMES, 2))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 regression(s)", r.stdout)

    def test_a_significant_slowdown_is_a_regression(self):
        slower = dict(self.TIMES)
        slower["encode/heap/c/vocab:1000/threads:1"] = 13.0  # +30%
        r = self.run_compare(fake_results(self.TIMES, 1), fake_results(slower, 2))
        self.assertEqual(r.returncode, 1, r.stdout)
        lines = [l for l in r.stdout.splitlines() if "REGRESSION" in l]
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn("encode/heap/", lines[0])
        self.assertEqual(self.run_compare(fake_results(self.TIMES, 1), fake_results(slower, 2),
                                          extra=["--report-only"]).returncode, 0)

    def test_a_whole_machine_slowdown_is_not_a_regression(self):
        # Everything 30% slower, the same-run reference too: noise on a shared machine, not code.
        slower = {k: v * 1.3 for k, v in self.TIMES.items()}
        r = self.run_compare(fake_results(self.TIMES, 1), fake_results(slower, 2))
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_a_shift_inside_the_baseline_runs_noise_is_not_a_regression(self):
        # Two baseline runs whose heap medians differ by 25% (run-to-run noise); a new run as slow as
        # the slower one is inside that envelope. 40% beyond the slower one is still caught.
        noisy = dict(self.TIMES)
        noisy["encode/heap/c/vocab:1000/threads:1"] = 12.5
        runs = [fake_results(self.TIMES, 1), fake_results(noisy, 3)]
        r = self.run_compare(*runs, fake_results(noisy, 2))
        self.assertEqual(r.returncode, 0, r.stdout)
        much = dict(self.TIMES)
        much["encode/heap/c/vocab:1000/threads:1"] = 17.5
        r = self.run_compare(*runs, fake_results(much, 2))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("REGRESSION", r.stdout)

    def test_files_with_nothing_in_common_are_an_error(self):
        r = self.run_compare(fake_results({"a/x/c/vocab:1/threads:1": 1.0}, 1),
                             fake_results({"b/y/c/vocab:1/threads:1": 1.0}, 1))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no benchmark in common", r.stderr)


class Plot(unittest.TestCase):
    def test_baseline_gives_four_figures_and_a_csv(self):
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot.py"), BASELINE, "--out", d],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            for name in ("encode_throughput", "train_time", "thread_scaling", "adversarial"):
                for ext in ("png", "svg"):
                    path = os.path.join(d, "{}.{}".format(name, ext))
                    self.assertGreater(os.path.getsize(path), 10000, path)
            with open(os.path.join(d, "results.csv")) as f:
                header = f.readline()
                rows = f.readlines()
            self.assertTrue(header.startswith("benchmark,kind,algorithm"))
            self.assertGreater(len(rows), 300)
            self.assertTrue(any("skipped" in row for row in rows))

    def test_unreadable_results_are_a_clear_error(self):
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot.py"), "/nonexistent.json"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot read", r.stderr)


if __name__ == "__main__":
    unittest.main()
