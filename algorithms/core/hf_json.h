// HuggingFace tokenizers' `tokenizer.json` for byte-level BPE (GPT-2's layout): writing the models
// bpebench trains, so that they load in HF tokenizers and encode to the same ids there.
//
// HF names tokens by strings, not bytes: each byte is spelled as one code point of GPT-2's
// byte-to-unicode alphabet (printable bytes stand for themselves, the other 68 are shifted to
// U+0100..U+0143), and `model.merges` lists each merge as "left right" in rank order. Our ids carry
// over unchanged (bytes 0..255, merge k = 256 + k), so HF returns the ids bpebench returns.
#pragma once

#include <string>

#include "algorithms/core/model.h"

namespace bpe {

// GPT-2's spelling of one byte, as UTF-8.
std::string ByteLevelChar(unsigned char byte);

// The tokenizer.json text for a model: a ByteLevel pre-tokenizer (GPT-2's pattern, no prefix space),
// BPE with no unknown token, and the ByteLevel decoder. Throws bpe::Error when HF cannot express
// the model: a pre-tokenizer other than gpt2, or two tokens with the same bytes (HF maps each string
// to one id, so a merge that re-creates an earlier token's bytes would get the earlier id).
std::string ExportHfTokenizerJson(const Model& model);

}  // namespace bpe
