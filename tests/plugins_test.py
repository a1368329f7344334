#!/usr/bin/python3
"""Plug-in peers from outside the repository (--peer-dir), and plug-ins that misbehave.

A good plug-in written here (a manifest that runs harness/peers/python-bpe/peer.py under another
name) joins the sweep: its rows are measured and checked token-exact. Bad plug-ins, each a few lines of
Python: one gives wrong ids (MISMATCH, no timing, exit status 3), one crashes, one hangs past
--peer-timeout, one answers garbage (each reported as failed with the tail of its stderr, the sweep
going on), and one folder has a broken manifest (named in the results, left out).

usage: plugins_test.py PATH/TO/bpebench_harness"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

HARNESS = sys.argv.pop(1) if len(sys.argv) > 1 else "build/dev/bpebench_harness"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_PEER = os.path.join(ROOT, "harness", "peers", "python-bpe", "peer.py")

# A protocol skeleton: hello answers; encode does what BEHAVIOUR says.
BAD_PEER = textwrap.dedent('''\
    import json, sys, time
    BEHAVIOUR = sys.argv[1]
    for line in sys.stdin:
        r = json.loads(line)
        if r["op"] == "hello":
            reply = {"ok": True, "versions": {"bad": "0.1"}}
        elif BEHAVIOUR == "crash":
            sys.stderr.write("boom: this plug-in crashes on purpose\\n")
            sys.exit(3)
        elif BEHAVIOUR == "hang":
            sys.stderr.write("sleeping on purpose\\n")
            sys.stderr.flush()
            time.sleep(3600)
        elif BEHAVIOUR == "garbage":
            sys.stdout.write("Loading model... 100%\\n")
            sys.stdout.flush()
            continue
        else:  # wrong: one id per byte, as if there were no merges
            data = open(r["input"], "rb").read()
            if r.get("ids_out"):
                open(r["ids_out"], "wb").write(b"".join(b.to_bytes(4, "little") for b in data))
            reply = {"ok": True, "seconds": 0.001, "iterations": 1, "tokens": len(data)}
        sys.stdout.write(json.dumps(reply) + "\\n")
        sys.stdout.flush()
''')


def manifest(name, command, **extra):
    m = {"name": name, "version": "0.1", "language": "Python", "build": "python", "command": command,
         "encode": {"models": ["merges_u32"]}, "threads": "none", "about": "a test plug-in"}
    m.update(extra)
    return m


class PeerDir(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        peers = os.path.join(cls.tmp.name, "my peers")  # a space in the path, on purpose
        os.makedirs(peers)
        with open(os.path.join(peers, "bad.py"), "w") as f:
            f.write(BAD_PEER)
        folders = {
            "good": manifest("my-python-bpe", [sys.executable, PYTHON_PEER]),
            "wrong": manifest("wrong-ids", [sys.executable, "../bad.py", "wrong"]),
            "crash": manifest("crashes", [sys.executable, "../bad.py", "crash"]),
            "hang": manifest("hangs", [sys.executable, "../bad.py", "hang"]),
            "garbage": manifest("garbage", [sys.executable, "../bad.py", "garbage"]),
        }
        for folder, m in folders.items():
            os.makedirs(os.path.join(peers, folder))
            with open(os.path.join(peers, folder, "peer.json"), "w") as f:
                json.dump(m, f)
        os.makedirs(os.path.join(peers, "broken"))
        with open(os.path.join(peers, "broken", "peer.json"), "w") as f:
            f.write('{"name": "broken", "build": "quantum"}')
        out = os.path.join(cls.tmp.name, "r.json")
        start = time.monotonic()
        cls.result = subprocess.run(
            [HARNESS, "--corpora", "tinyshakespeare", "--vocab-sizes", "1000", "--threads", "1", "--repetitions", "1",
             "--min-time", "0.01", "--adversarial-max", "0", "--production-vocabs", "none", "--peer-dir", peers,
             "--peer-timeout", "3", "--algorithms", "linked,cached,my-python-bpe,wrong-ids,crashes,hangs,garbage",
             "--out", out], capture_output=True, text=True, timeout=600)
        cls.seconds = time.monotonic() - start
        with open(out) as f:
            cls.data = json.load(f)
        cls.rows = {b["name"].split("/iterations")[0].split("/min_time")[0]: b for b in cls.data["benchmarks"]
                    if b.get("run_type") != "aggregate"}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def row(self, peer):
        return self.rows["encode/{}/tinyshakespeare/vocab:1000/threads:1".format(peer)]

    def test_a_plugin_from_peer_dir_joins_the_sweep(self):
        good = self.row("my-python-bpe")
        self.assertFalse(good.get("error_occurred"), good)
        self.assertIn("token-exact: my-python-bpe gave our ids", good["label"])
        self.assertGreater(good["bytes_per_second"], 0)
        self.assertIn("my-python-bpe 0.1 (python", self.data["context"]["bpebench_peers"])
        self.assertFalse(self.row("cached").get("error_occurred"))  # ours, beside it

    def test_wrong_ids_are_a_mismatch_and_not_timed(self):
        wrong = self.row("wrong-ids")
        self.assertTrue(wrong.get("error_occurred"))
        self.assertIn("MISMATCH", wrong["error_message"])
        self.assertRegex(wrong["error_message"], r"wrong-ids's ids differ from ours at token \d+ of \d+")
        self.assertIn("MISMATCH encode/wrong-ids/", self.result.stderr)
        self.assertEqual(self.result.returncode, 3, self.result.stderr[-2000:])

    def test_crash_hang_and_garbage_are_failures_with_stderr_and_the_sweep_goes_on(self):
        crash = self.row("crashes")["error_message"]
        self.assertIn("peer failed", crash)
        self.assertIn("exited with status 3", crash)
        self.assertIn("boom: this plug-in crashes on purpose", crash)
        hang = self.row("hangs")["error_message"]
        self.assertIn("did not answer within 3 s", hang)
        self.assertIn("sleeping on purpose", hang)
        garbage = self.row("garbage")["error_message"]
        self.assertIn("answered 'Loading model... 100%', which is not a JSON reply", garbage)
        for name in ("crashes", "hangs", "garbage"):
            self.assertIn("FAILED encode/{}/".format(name), self.result.stderr)
        self.assertLess(self.seconds, 120)  # the hang cost its timeout, not an hour
        self.assertFalse(self.rows["train_text/linked/tinyshakespeare/vocab:1000/threads:1"].get("error_occurred"))

    def test_a_broken_manifest_is_named_and_left_out(self):
        self.assertIn("broken/peer.json: build 'quantum' is not one of", self.data["context"]["bpebench_peers"])
        self.assertIn("peers: ", self.result.stderr)

    def test_peer_dir_must_be_a_folder_and_names_must_be_known(self):
        r = subprocess.run([HARNESS, "--peer-dir", "/nonexistent/peers", "--quick"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--peer-dir /nonexistent/peers: not a directory", r.stderr)
        r = subprocess.run([HARNESS, "--algorithms", "no-such-peer", "--quick"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown algorithm 'no-such-peer'", r.stderr)
        self.assertIn("tiktoken-node", r.stderr)  # the peers it knows are listed


if __name__ == "__main__":
    unittest.main()
