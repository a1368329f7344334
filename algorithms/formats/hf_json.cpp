#include "algorithms/formats/hf_json.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <fmt/core.h>

#include <array>

#include "algorithms/core/error.h"
#include "algorithms/formats/json.h"
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

}  // namespace

std::string ByteLevelChar(unsigned char byte) { return ByteLevelTable()[byte]; }

std::string ExportHfTokenizerJson(const Model& model) {
  if (model.pretokenizer != "gpt2") {
    Fail("HF tokenizer.json export needs a gpt2 model (HF's ByteLevel pre-tokenizer is GPT-2's pattern); "
         "this model uses '{}'", model.pretokenizer);
  }
  const Vocabulary vocab(model.merges);
  // The file spells out every token: a model whose tokens are too long to hold (Vocabulary) would
  // make a file of their length, so it is refused rather than written.
  if (!vocab.all_held()) {
    uint64_t longest = 0;
    for (TokenId id = 0; id < vocab.size(); ++id) longest = std::max(longest, vocab.TokenLength(id));
    Fail("HF tokenizer.json spells out every token, and this model has tokens of up to {} bytes: too long "
         "to export", longest);
  }
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

Model ParseHfTokenizerJson(std::string_view bytes, std::string_view source) {
  const Json doc = ParseJson(bytes, source, "not a tokenizer.json");
  auto bad = [&](std::string_view what) { Fail("{}: cannot read this tokenizer.json as byte-level BPE: {}", source, what); };
  const Json* model = doc.Find("model");
  if (doc.kind != Json::kObject || !model || model->kind != Json::kObject) bad("no \"model\" object");
  const Json* type = model->Find("type");
  if (!type || type->text != "BPE") bad("model.type is not BPE");
  for (const char* flag : {"ignore_merges", "byte_fallback", "fuse_unk"}) {
    if (const Json* f = model->Find(flag); f && f->kind == Json::kBool && f->number) bad(fmt::format("model.{} is set", flag));
  }
  for (const char* field : {"dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const Json* f = model->Find(field); f && f->kind != Json::kNull && !(f->kind == Json::kString && f->text.empty())) {
      bad(fmt::format("model.{} is set", field));
    }
  }
  if (const Json* n = doc.Find("normalizer"); n && n->kind != Json::kNull) bad("it has a normalizer");
  const Json* pre = doc.Find("pre_tokenizer");
  const Json* pre_type = pre ? pre->Find("type") : nullptr;
  const Json* regex = pre ? pre->Find("use_regex") : nullptr;
  const Json* prefix = pre ? pre->Find("add_prefix_space") : nullptr;
  if (!pre_type || pre_type->text != "ByteLevel" || (regex && regex->kind == Json::kBool && !regex->number) ||
      (prefix && prefix->kind == Json::kBool && prefix->number)) {
    bad("the pre-tokenizer is not ByteLevel with use_regex and without add_prefix_space (GPT-2's pattern)");
  }
  const Json* vocab = model->Find("vocab");
  const Json* merges = model->Find("merges");
  if (!vocab || vocab->kind != Json::kObject || !merges || merges->kind != Json::kArray) bad("no model.vocab or model.merges");

  boost::unordered_flat_map<std::string, uint32_t, StringHash, std::equal_to<>> ids;  // HF string -> HF id
  for (size_t i = 0; i < vocab->items.size(); ++i) {
    const std::string& name = vocab->keys[i];
    const Json& id = vocab->items[i];
    if (id.kind != Json::kNumber || id.number < 0 || id.number >= (1u << 24) || id.number != static_cast<uint32_t>(id.number)) {
      bad(fmt::format("the id of '{}' is not a whole number below 2^24", name.substr(0, 40)));
    }
    if (!ids.emplace(name, static_cast<uint32_t>(id.number)).second) {
      bad(fmt::format("'{}' is in model.vocab twice", name.substr(0, 40)));
    }
  }
  // Byte-level strings back to bytes.
  boost::unordered_flat_map<std::string, unsigned char, StringHash, std::equal_to<>> byte_of;
  for (int b = 0; b < 256; ++b) byte_of.emplace(ByteLevelChar(static_cast<unsigned char>(b)), static_cast<unsigned char>(b));
  Model m;
  m.pretokenizer = "gpt2";
  m.external_ids.resize(kByteAlphabet);
  for (int b = 0; b < 256; ++b) {
    auto it = ids.find(ByteLevelChar(static_cast<unsigned char>(b)));
    if (it == ids.end()) bad(fmt::format("byte 0x{:02X} ('{}') is not in the vocabulary", b, ByteLevelChar(static_cast<unsigned char>(b))));
    m.external_ids[b] = it->second;
  }
  boost::unordered_flat_map<std::string, TokenId, StringHash, std::equal_to<>> ours;  // HF string -> our id
  for (int b = 0; b < 256; ++b) ours.emplace(ByteLevelChar(static_cast<unsigned char>(b)), b);
  for (const Json& merge : merges->items) {
    std::string left, right;
    if (merge.kind == Json::kString) {
      const size_t sp = merge.text.find(' ');
      if (sp == std::string::npos || merge.text.find(' ', sp + 1) != std::string::npos) {
        bad(fmt::format("merge '{}' is not \"left right\"", merge.text.substr(0, 40)));
      }
      left = merge.text.substr(0, sp);
      right = merge.text.substr(sp + 1);
    } else if (merge.kind == Json::kArray && merge.items.size() == 2 && merge.items[0].kind == Json::kString &&
               merge.items[1].kind == Json::kString) {
      left = merge.items[0].text;
      right = merge.items[1].text;
    } else {
      bad("a merge is neither \"left right\" nor [left, right]");
    }
    auto l = ours.find(left);
    auto r = ours.find(right);
    if (l == ours.end() || r == ours.end()) {
      bad(fmt::format("merge {} of '{}' and '{}' uses a token no earlier merge made", m.merges.size(), left.substr(0, 40), right.substr(0, 40)));
    }
    if (ours.count(left + right)) {
      bad(fmt::format("merge {} makes '{}' again, which an earlier merge made: HF gives both the one id of that "
                      "string, bpebench one id per merge", m.merges.size(), (left + right).substr(0, 40)));
    }
    auto result = ids.find(left + right);
    if (result == ids.end()) bad(fmt::format("merge {}'s result '{}' is not in the vocabulary", m.merges.size(), (left + right).substr(0, 40)));
    m.merges.push_back({l->second, r->second});
    m.external_ids.push_back(result->second);
    ours.emplace(left + right, MergedId(m.merges.size() - 1));
  }
  // Ids must be 0..size-1, each once: two strings on one id would decode one of them as the other,
  // and a gap is an id that decodes to nothing.
  std::vector<const std::string*> name_of(vocab->items.size(), nullptr);
  for (const auto& [name, id] : ids) {
    if (id >= name_of.size()) {
      bad(fmt::format("the ids are not 0..{} (the vocabulary's size less one): '{}' has id {}", name_of.size() - 1,
                      name.substr(0, 40), id));
    }
    if (name_of[id]) {
      const std::string& a = std::min(*name_of[id], name);
      const std::string& b = std::max(*name_of[id], name);
      bad(fmt::format("'{}' and '{}' have the same id {}", a.substr(0, 40), b.substr(0, 40), id));
    }
    name_of[id] = &name;
  }
  Vocabulary check(m.merges);  // no pair twice
  return m;
}

}  // namespace bpe
