#!/usr/bin/python3
"""The harness with the user's own text (--corpus PATH) and its progress display.

--corpus with a file or a folder joins the sweep as a text class of its own (user_<name>), split and
checked like the others, its sha256 in the results; a path that is missing, a device, empty, too
small or not UTF-8 text is a one-line error and exit status 1. The progress display counts every
repetition: its last line says all of them were measured.

usage: harness_corpus_test.py PATH/TO/bpebench_harness"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HARNESS = sys.argv.pop(1) if len(sys.argv) > 1 else "build/dev/bpebench_harness"
ARGS = ["--corpora", "tinyshakespeare", "--vocab-sizes", "300", "--class-vocab-sizes", "300", "--threads", "1",
        "--repetitions", "2", "--min-time", "0.01", "--adversarial-max", "0", "--no-peers",
        "--production-vocabs", "none", "--algorithms", "linked,cached,rank"]
TEXT = ("Ein Satz auf Deutsch, und noch einer. Ünïcödé wörter: grüße, straße, 東京, Москва.\n" * 400)


def harness(*args, timeout=600):
    return subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=timeout)


class UserCorpus(unittest.TestCase):
    def sweep(self, path):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.json")
            r = harness(*ARGS, "--corpus", path, "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr[-3000:])
            with open(out) as f:
                return json.load(f), r.stderr

    def test_a_file_joins_as_a_class_of_its_own_with_its_sha256(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "my text.txt")  # a space, on purpose
            with open(path, "w", encoding="utf-8") as f:
                f.write(TEXT)
            data, _ = self.sweep(path)
        names = {b["name"].split("/min_time")[0].split("/iterations")[0] for b in data["benchmarks"]
                 if not b.get("error_occurred")}
        self.assertIn("encode/cached/user_my_text.txt/vocab:300/threads:1", names)
        self.assertIn("train_text/linked/user_my_text.txt/vocab:300/threads:1", names)
        self.assertIn("encode/cached/tinyshakespeare/vocab:300/threads:1", names)  # beside the manifest's
        context = data["context"]["bpebench_corpus_user_my_text.txt"]
        self.assertIn(hashlib.sha256(TEXT.encode()).hexdigest(), context)
        held_out = int(re.search(r"(\d+) held out", context).group(1))
        self.assertGreater(held_out, 0.05 * len(TEXT.encode()))
        self.assertIn("user_corpora=", data["context"]["bpebench_settings"])

    def test_a_folder_joins_its_files_in_name_order(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "shards")
            os.makedirs(os.path.join(folder, "sub"))
            parts = {"b.txt": TEXT[:9000], "a.txt": TEXT[9000:], os.path.join("sub", "c.txt"): "tail text\n" * 50}
            for name, text in parts.items():
                with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                    f.write(text)
            data, _ = self.sweep(folder)
        context = data["context"]["bpebench_corpus_user_shards"]
        total = sum(len(t.encode()) for t in parts.values())
        self.assertIn("{} bytes".format(total), context)
        for name, text in parts.items():
            self.assertIn("{}={}".format(os.path.basename(name), hashlib.sha256(text.encode()).hexdigest()), context)
        self.assertLess(context.index("a.txt="), context.index("b.txt="))

    def test_bad_paths_and_files_are_clear_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            empty = os.path.join(tmp, "empty.txt")
            open(empty, "w").close()
            tiny = os.path.join(tmp, "tiny.txt")
            with open(tiny, "w") as f:
                f.write("a")
            binary = os.path.join(tmp, "binary.bin")
            with open(binary, "wb") as f:
                f.write(b"text then \xff\xfe bytes")
            nul = os.path.join(tmp, "nul.txt")
            with open(nul, "wb") as f:
                f.write(b"text\0more text")
            os.makedirs(os.path.join(tmp, "nothing"))
            cases = {
                os.path.join(tmp, "missing.txt"): "no such file or folder",
                "/dev/zero": "not a regular file or folder",
                empty: "no text (the files are empty)",
                tiny: "too small to split",
                binary: "is not UTF-8 text (invalid byte at offset 10)",
                nul: "holds NUL bytes",
                os.path.join(tmp, "nothing"): "the folder holds no files",
            }
            for path, message in cases.items():
                with self.subTest(path=path):
                    r = harness(*ARGS, "--corpus", path, timeout=120)
                    self.assertEqual(r.returncode, 1, r.stderr[-2000:])
                    self.assertIn(message, r.stderr)
                    self.assertEqual(len(r.stderr.strip().splitlines()[-1:]), 1)
                    self.assertNotIn("Traceback", r.stderr)


class ProgressDisplay(unittest.TestCase):
    def test_checks_are_numbered_and_every_repetition_is_counted(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = harness(*ARGS, "--out", os.path.join(tmp, "r.json"))
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        checks = re.findall(r"^\[check (\d+), elapsed \d+ s\] ", r.stderr, re.M)
        self.assertGreaterEqual(len(checks), 3)
        self.assertEqual([int(c) for c in checks], list(range(1, len(checks) + 1)))
        plan = re.search(r"(\d+) checks done in \d+ s; measuring (\d+) benchmarks, (\d+) repetitions", r.stderr)
        self.assertEqual(int(plan.group(1)), len(checks))
        lines = re.findall(r"^\[(\d+)/(\d+) repetitions, (\d+)/(\d+) benchmarks complete\]", r.stderr, re.M)
        self.assertTrue(lines)
        done = [int(l[0]) for l in lines]
        self.assertEqual(done, sorted(done))  # it only moves forward
        last = lines[-1]
        self.assertEqual(last[0], last[1], "every repetition counted by the end")
        self.assertEqual(last[1], plan.group(3))
        self.assertEqual(last[2], last[3])
        self.assertEqual(last[3], plan.group(2))


if __name__ == "__main__":
    unittest.main()
