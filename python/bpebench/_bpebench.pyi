"""Type stubs of the compiled part of bpebench (python/_bpebench.cpp); the package re-exports its
classes. Documented in the package (bpebench/__init__.pyi) and docs/python.md."""

from typing import Sequence, Union

import numpy as np
import numpy.typing as npt

_Text = Union[str, bytes]

class Error(ValueError):
    """Bad input (a file, a model, an option): the message is the CLI's, a sentence for the user."""

class Encoding:
    """A prepared vocabulary with an encoder algorithm; safe to share between Python threads (each
    call takes an idle encoder, keeping its piece cache warm for later calls)."""
    @property
    def name(self) -> str: ...
    @property
    def pretokenizer(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def n_vocab(self) -> int:
        """One more than the largest id encode() can return (special tokens are not counted)."""
    @property
    def merges(self) -> int: ...
    def encode(self, text: _Text, num_threads: int = 1) -> list[int]:
        """The token ids of text; bytes are taken as they are (no UTF-8 check)."""
    def encode_to_numpy(self, text: _Text, num_threads: int = 1) -> npt.NDArray[np.uint32]:
        """The token ids as a uint32 array that owns the encoder's buffer (no Python list in between)."""
    def encode_batch(self, texts: Sequence[_Text], num_threads: int = 0) -> list[list[int]]:
        """The ids of each text, the texts spread over num_threads threads (0: every hardware thread)."""
    def decode_bytes(self, ids: Union[Sequence[int], npt.NDArray[np.integer]]) -> bytes:
        """The bytes the ids stand for; an id the model does not have raises Error."""
    def decode(self, ids: Union[Sequence[int], npt.NDArray[np.integer]], errors: str = "replace") -> str:
        """decode_bytes(ids) as text, decoded as UTF-8 with `errors`."""
    def counters(self) -> list[tuple[str, float]]: ...

class Counts:
    """Distinct pieces with their counts, sorted by bytes: what `bpebench count` writes. Picklable
    (as its table)."""
    @property
    def pretokenizer(self) -> str: ...
    def __len__(self) -> int: ...
    def total(self) -> int:
        """The number of pieces counted (the sum of the counts)."""
    def items(self) -> list[tuple[bytes, int]]: ...
    def to_tsv(self) -> bytes:
        """The table as `bpebench count` writes it."""
    def save(self, path: str) -> None:
        """Writes the table (atomically); `bpebench train --counts` reads it."""

class Model:
    """A trained merge list and its pre-tokenizer."""
    @property
    def pretokenizer(self) -> str: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def stop_reason(self) -> str:
        """Why training stopped ("reached the vocabulary size", ...); "" for a loaded model."""
    @property
    def merges(self) -> list[tuple[int, int]]: ...
    def to_bytes(self) -> bytes:
        """The model file `bpebench train` writes for the same merges, byte for byte."""
    def save(self, path: str) -> None:
        """Writes the model file (atomically: a temporary file renamed into place)."""
    def export_hf(self) -> str:
        """HuggingFace tokenizers' tokenizer.json for the model (gpt2 models only)."""
    def encoding(self, algorithm: str = "cached") -> Encoding: ...
