// HuggingFace tokenizers' `tokenizer.json` for byte-level BPE (GPT-2's layout): writing the models
// bpebench trains, so that they load in HF tokenizers and encode to the same ids there, and reading
// byte-level BPE tokenizers made elsewhere.
//
// HF names tokens by strings, not bytes: each byte is spelled as one code point of GPT-2's
// byte-to-unicode alphabet (printable bytes stand for themselves, the other 68 are shifted to
// U+0100..U+0143), and `model.merges` lists each merge as "left right" in rank order. Our ids carry
// over unchanged (bytes 0..255, merge k = 256 + k), so HF returns the ids bpebench returns.
#pragma once

#include <string>
#include <string_view>

#include "algorithms/core/model.h"

namespace bpe {

// GPT-2's spelling of one byte, as UTF-8.
std::string ByteLevelChar(unsigned char byte);

// The tokenizer.json text for a model: a ByteLevel pre-tokenizer (GPT-2's pattern, no prefix space),
// BPE with no unknown token, and the ByteLevel decoder. Throws bpe::Error when HF cannot express
// the model: a pre-tokenizer other than gpt2, or two tokens with the same bytes (HF maps each string
// to one id, so a merge that re-creates an earlier token's bytes would get the earlier id).
std::string ExportHfTokenizerJson(const Model& model);

// Reads a byte-level BPE tokenizer.json: `model.type` BPE, a ByteLevel pre-tokenizer with use_regex
// (GPT-2's pattern: our gpt2), `model.vocab` in GPT-2's byte alphabet with every byte present, and
// `model.merges` ("left right" strings or [left, right] pairs) in rank order. HF's ids become the
// model's external ids (ours stay canonical inside; a file exported by bpebench comes back with the
// same ids). Anything else (a normalizer, another pre-tokenizer or model type, ignore_merges, byte
// fallback, dropout, a merge whose parts or result are not in the vocabulary) is a bpe::Error that
// says what: such a tokenizer would not encode the way the file says if bpebench read it as plain BPE.
Model ParseHfTokenizerJson(std::string_view bytes, std::string_view source);

}  // namespace bpe
