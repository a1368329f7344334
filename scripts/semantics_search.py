#!/usr/bin/python3
"""Searches small random tiktoken-style rank files for a text on which pair semantics with merges
derived from the ranks (bpebench: algorithms/formats/tiktoken.h) and tiktoken's concatenation semantics
(merge the adjacent pair whose concatenation has the lowest rank; a piece that is a token is that
token) give different tokens. Prints the first counter-example found, or how many rank files and
strings it checked without finding one.

usage: scripts/semantics_search.py [--letters 3] [--max-tokens 5] [--max-token-len 4] [--max-text 5]
                                   [--trials 20000] [--seed 1]
"""
import argparse
import itertools
import random


def merge_lowest(piece, rank_of):
    """Repeatedly merges the adjacent pair with the lowest rank (leftmost on ties); rank_of(left,
    right) is the pair's rank or None."""
    parts = list(piece)
    while len(parts) > 1:
        best = None
        for i in range(len(parts) - 1):
            r = rank_of(parts[i], parts[i + 1])
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def concat_encode(piece, ranks, shortcut=True):
    """tiktoken: a pair merges when its concatenation is a token; a piece that is a token is kept."""
    if shortcut and piece in ranks:
        return [piece]
    return merge_lowest(piece, lambda a, b: ranks.get(a + b))


def derive(ranks):
    """Each multi-letter token's merge: tiktoken's procedure on its letters with lower ranks only."""
    merges = {}
    for t, r in sorted(ranks.items(), key=lambda x: x[1]):
        if len(t) < 2:
            continue
        parts = concat_encode(t, {k: v for k, v in ranks.items() if v < r}, shortcut=False)
        if len(parts) != 2:
            return None  # not a BPE vocabulary: bpebench refuses it
        merges[(parts[0], parts[1])] = r
    return merges


def pair_encode(piece, merges):
    """bpebench: only listed pairs merge."""
    return merge_lowest(piece, lambda a, b: merges.get((a, b)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--letters", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=5)
    ap.add_argument("--max-token-len", type=int, default=4)
    ap.add_argument("--max-text", type=int, default=5)
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    alpha = "abcdefgh"[:a.letters]
    files = texts = 0
    for _ in range(a.trials):
        ranks = {c: i for i, c in enumerate(alpha)}
        tokens = list(alpha)
        for _ in range(rng.randint(2, a.max_tokens)):
            t = rng.choice(tokens) + rng.choice(tokens)
            if t not in ranks and len(t) <= a.max_token_len:
                ranks[t] = len(ranks)
                tokens.append(t)
        merges = derive(ranks)
        if merges is None:
            continue
        files += 1
        for n in range(2, a.max_text + 1):
            for letters in itertools.product(alpha, repeat=n):
                s = "".join(letters)
                texts += 1
                x, y = concat_encode(s, ranks), pair_encode(s, merges)
                if x != y:
                    print("counter-example: ranks {} text {!r}: tiktoken {} pairs {}".format(ranks, s, x, y))
                    return
    print("no counter-example: {} rank files, {} texts checked".format(files, texts))


if __name__ == "__main__":
    main()
