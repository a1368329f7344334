// A small, strict command-line parser: every option must be known, every value well-formed and in
// range, and every mistake is a bpe::Error with a one-line message.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace bpe::cli {

class Args {
 public:
  // `valued`: options that take a value (--name VALUE or --name=VALUE); `flags`: options without.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& flags);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::string Required(const std::string& name) const;
  // An integer in [min, max]; the option's name and the range are in the error message.
  uint64_t Uint(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace bpe::cli
