#include "algorithms/core/hf_json.h"

#include <fmt/core.h>

#include <array>

#include "algorithms/core/error.h"
#include "algorithms/core/vocabulary.h"
#include "algorithms/core/types.h"

namespace bpe {

namespace {

// GPT-2's bytes_to_unicode(): '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF stand for themselves; the
// remaining bytes, in increasing order, become U+0100, U+0101, ...
const std::array<std::string, 256>& ByteLevelTable() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : next++;
      // Every code point here is below U+0800: one or two UTF-8 bytes.
      if (cp < 0x80) {
        t[b] = std::string(1, static_cast<char>(cp));
      } else {
        t[b] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
    }
    return t;
  }();
  return table;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace

std::string ByteLevelChar(unsigned char byte) { return ByteLevelTable()[byte]; }

std::string ExportHfTokenizerJson(const Model& model) {
  if (model.pretokenizer != "gpt2") {
    Fail("HF tokenizer.json export needs a gpt2 model (HF's ByteLevel pre-tokenizer is GPT-2's pattern); "
         "this model uses '{}'", model.pretokenizer);
  }
  const Vocabulary vocab(model.merges);
  std::vector<std::string> names(vocab.size());
  boost::unordered_flat_map<std::string, TokenId, StringHash, std::equal_to<>> seen;
  for (TokenId id = 0; id < vocab.size(); ++id) {
    for (char b : vocab.TokenBytes(id)) names[id] += ByteLevelChar(static_cast<unsigned char>(b));
    if (auto [it, fresh] = seen.emplace(names[id], id); !fresh) {
      Fail("HF tokenizer.json cannot hold this model: token {} has the same bytes as token {} ({} bytes), "
           "and HF maps each token string to one id", id, it->second, vocab.TokenBytes(id).size());
    }
  }
  std::string out;
  out.reserve(vocab.size() * 40);
  out +=
      "{\n"
      "  \"version\": \"1.0\",\n"
      "  \"truncation\": null,\n"
      "  \"padding\": null,\n"
      "  \"added_tokens\": [],\n"
      "  \"normalizer\": null,\n"
      "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
      "\"use_regex\": true},\n"
      "  \"post_processor\": null,\n"
      "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
      "\"use_regex\": true},\n"
      "  \"model\": {\n"
      "    \"type\": \"BPE\",\n"
      "    \"dropout\": null,\n"
      "    \"unk_token\": null,\n"
      "    \"continuing_subword_prefix\": null,\n"
      "    \"end_of_word_suffix\": null,\n"
      "    \"fuse_unk\": false,\n"
      "    \"byte_fallback\": false,\n"
      "    \"vocab\": {";
  for (TokenId id = 0; id < vocab.size(); ++id) {
    out += id == 0 ? "\n      " : ",\n      ";
    AppendJsonString(out, names[id]);
    out += fmt::format(": {}", id);
  }
  out += "\n    },\n    \"merges\": [";
  // "left right": byte-level names never contain a space (byte 0x20 is spelled U+0120), so the
  // one-string form is unambiguous and loads in every HF version, old ones included.
  for (size_t k = 0; k < model.merges.size(); ++k) {
    out += k == 0 ? "\n      " : ",\n      ";
    AppendJsonString(out, names[model.merges[k].left] + " " + names[model.merges[k].right]);
  }
  out += "\n    ]\n  }\n}\n";
  return out;
}

}  // namespace bpe
