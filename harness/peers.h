// The peer libraries the sweep measures beside our algorithms (see peer_sweep.cpp):
//   sentencepiece      in-process, through its C++ API (libsentencepiece-dev; optional at build time)
//   the plug-ins       programs in harness/peers/*/ (and --peer-dir) that speak JSON lines over
//                      pipes: plugins.h, docs/peers.md
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bpe::harness {

// ---- sentencepiece ----

// "" when the harness was built with sentencepiece; otherwise why not.
std::string SentencePieceUnavailable();
std::string SentencePieceVersion();

class SentencePieceModel {
 public:
  virtual ~SentencePieceModel() = default;
  // Encodes `text` line by line (sentencepiece encodes sentences), on `threads` threads that each
  // take a contiguous run of lines; returns the number of ids.
  virtual size_t Encode(std::string_view text, int threads) const = 0;
  virtual int pieces() const = 0;
};

// BPE training from the text's lines, held in memory: model_type=bpe, character_coverage=1.0,
// byte_fallback=true, num_threads=threads, vocab_size (sentencepiece counts its <unk>, <s>, </s> and
// the 256 byte-fallback pieces in it). Throws bpe::Error with sentencepiece's message on failure.
std::unique_ptr<SentencePieceModel> SentencePieceTrain(std::string_view text, uint32_t vocab_size, int threads);

// ---- plug-ins ----

// The folder of the plug-in peers that ship with bpebench: harness/peers in the source checkout.
std::string PeersFolder();

}  // namespace bpe::harness
