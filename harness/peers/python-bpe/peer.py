#!/usr/bin/env python3
"""A textbook byte-level BPE in pure Python (standard library only), run as a bpebench peer.

The starting point of the PyData talk bpebench grew from: the same canonical semantics as bpebench
(docs/algorithms.md), written the way a tutorial writes it, so the sweep shows the gap between
Python and compiled code on the same work, id for id.

  train:  count the pieces (GPT-2's pattern), then per merge recount every adjacent pair of every
          distinct piece, take the most frequent (ties: the smallest (left, right)), and replace it
          left to right in every piece.
  encode: per piece, repeatedly find the adjacent pair with the lowest merge rank and merge all its
          occurrences left to right (GPT-2's encoder.py loop), then map to ids; no cache.

Speaks the peer protocol of docs/peers.md: JSON requests on stdin, JSON replies on stdout. Models
come and go as "merges_u32" files: one (left id, right id) pair of little-endian uint32 per merge,
merge k making id 256 + k.
"""
import json
import re
import sys
import time
import unicodedata
from array import array

# GPT-2's pattern. Python's re has no \p{..}, so the letter and number classes are spelled out from
# unicodedata, and \s is Unicode's White_Space list (Python's own \s also matches U+001C..U+001F).
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _class(prefix):
    ranges, start, prev = [], None, None
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            ranges.append((start, prev))
            start = None
    if start is not None:
        ranges.append((start, prev))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


def gpt2_pattern():
    L, N, S = _class("L"), _class("N"), WHITE_SPACE
    return re.compile(
        rf"""'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|[{S}]+(?![^{S}])|[{S}]+""")


PATTERN = None


def pieces(text_bytes):
    global PATTERN
    if PATTERN is None:
        PATTERN = gpt2_pattern()
    text = text_bytes.decode("utf-8", errors="surrogateescape")
    for m in PATTERN.finditer(text):
        yield m.group().encode("utf-8", errors="surrogateescape")


def train(data, vocab_size):
    words = {}
    for p in pieces(data):
        words[p] = words.get(p, 0) + 1
    symbols = [(list(w), c) for w, c in words.items()]
    merges = []
    while 256 + len(merges) < vocab_size:
        counts = {}
        for syms, c in symbols:
            for pair in zip(syms, syms[1:]):
                counts[pair] = counts.get(pair, 0) + c
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        new_id = 256 + len(merges)
        merges.append(best)
        for syms, _ in symbols:
            i = 0
            while i < len(syms) - 1:
                if syms[i] == best[0] and syms[i + 1] == best[1]:
                    syms[i:i + 2] = [new_id]
                i += 1
    return merges


def encode_piece(piece, ranks):
    syms = list(piece)
    while len(syms) > 1:
        pairs = set(zip(syms, syms[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        new_id = 256 + ranks[best]
        out, i = [], 0
        while i < len(syms):
            if i < len(syms) - 1 and syms[i] == best[0] and syms[i + 1] == best[1]:
                out.append(new_id)
                i += 2
            else:
                out.append(syms[i])
                i += 1
        syms = out
    return syms


def read_merges(path):
    a = array("I")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder != "little":
        a.byteswap()
    return [(a[i], a[i + 1]) for i in range(0, len(a), 2)]


def write_u32(path, values):
    a = array("I", values)
    if sys.byteorder != "little":
        a.byteswap()
    with open(path, "wb") as f:
        f.write(a.tobytes())


def documents(path, offsets):
    with open(path, "rb") as f:
        data = f.read()
    bounds = [0] + list(offsets or []) + [len(data)]
    return [data[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]


def handle(r):
    op = r.get("op")
    if op == "hello":
        return {"ok": True, "versions": {"python-bpe": "1.0"}, "runtime": f"python {sys.version.split()[0]}"}
    if op == "encode":
        if r.get("model_format") != "merges_u32":
            raise ValueError(f"cannot read models of format {r.get('model_format')}")
        ranks = {pair: k for k, pair in enumerate(read_merges(r["model"]))}
        docs = documents(r["input"], r.get("offsets"))

        def once():
            return [[t for p in pieces(d) for t in encode_piece(p, ranks)] for d in docs]

        first = once()  # the untimed warm-up, and the ids for the check
        if r.get("ids_out"):
            write_u32(r["ids_out"], [t for ids in first for t in ids])
        iterations, start = 0, time.perf_counter()
        while True:
            once()
            iterations += 1
            if time.perf_counter() - start >= float(r.get("min_time") or 0):
                break
        return {"ok": True, "seconds": (time.perf_counter() - start) / iterations, "iterations": iterations,
                "tokens": sum(len(ids) for ids in first)}
    if op == "train":
        with open(r["input"], "rb") as f:
            data = f.read()
        start = time.perf_counter()
        merges = train(data, int(r["vocab_size"]))
        seconds = time.perf_counter() - start
        if r.get("model_out"):
            write_u32(r["model_out"], [x for pair in merges for x in pair])
        return {"ok": True, "seconds": seconds, "vocab_size": 256 + len(merges)}
    raise ValueError(f"unknown op '{op}'")


def main():
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as e:  # every failure is a reply; the harness reports it
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
