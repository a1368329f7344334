// The one registry of trainers, encoders and pre-tokenizers. Tests, the benchmark harness and the CLI
// all iterate these tables, so a new algorithm is one file, one row in registry.cpp and one source
// line in algorithms/CMakeLists.txt; everything else picks it up.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "algorithms/core/encoder.h"
#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/trainer.h"

namespace bpe {

struct TrainerInfo {
  std::string_view name;
  std::string_view description;
  bool exact;  // produces the canonical merge list (all registered trainers must)
  std::unique_ptr<Trainer> (*make)();
};

struct EncoderInfo {
  std::string_view name;
  std::string_view description;
  bool exact;  // produces the canonical ids (all registered encoders must)
  EncoderFactory make;
};

struct PreTokenizerInfo {
  std::string_view name;
  std::string_view description;
  const PreTokenizer& (*get)();
};

std::span<const TrainerInfo> Trainers();
std::span<const EncoderInfo> Encoders();
std::span<const PreTokenizerInfo> PreTokenizers();

// Lookups by name; an unknown name throws bpe::Error listing the known ones.
const TrainerInfo& FindTrainer(std::string_view name);
const EncoderInfo& FindEncoder(std::string_view name);
const PreTokenizerInfo& FindPreTokenizer(std::string_view name);

// The reference algorithms every other one is checked against.
inline constexpr std::string_view kReferenceTrainer = "naive";
inline constexpr std::string_view kReferenceEncoder = "naive";

}  // namespace bpe
