// A small, strict JSON reader for the model files bpebench imports (tiktoken's JSON rank files, HF's
// tokenizer.json) and the peers' replies, and the string escaping for what bpebench writes. Errors are bpe::Error: "<source>: <what>: <problem> at byte N".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bpe {

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kObject, kArray } kind = kNull;
  std::string text;  // string value
  double number = 0;                                   // number value; 1 or 0 for true and false
  // An object's members (keys[i], items[i]); an array's elements (items, keys empty). Two vectors,
  // not one of pairs: std::pair of an incomplete type is not allowed, a std::vector of one is.
  std::vector<std::string> keys;
  std::vector<Json> items;
  const Json* Find(std::string_view key) const;  // an object's member, or null
};

Json ParseJson(std::string_view bytes, std::string_view source, std::string_view what);

// Appends `s` as a JSON string: quoted, with '"', '\\' and control characters escaped; other bytes
// pass as they are (UTF-8 stays UTF-8).
void AppendJsonString(std::string& out, std::string_view s);
inline std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace bpe
