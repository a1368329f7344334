// A small, strict command-line parser: every option must be known and given once, every value
// well-formed and in range, and every mistake is a bpe::Error with a one-line message.
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
  // Arguments that start with `passthrough_prefix` (when not empty) are kept, in order, for another
  // parser (the harness hands --benchmark_* to Google Benchmark).
  Args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
       const std::set<std::string>& flags, const std::string& passthrough_prefix = "");

  // --help or -h was given as an option (not as an option's value, nor after --); parsing stopped
  // there.
  bool help() const { return help_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::string Required(const std::string& name) const;
  // An integer in [min, max]; the option's name and the range are in the error message, and
  // `below_min` (when given) says why a value below min is refused ("the 256-byte alphabet").
  uint64_t Uint(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max,
                const std::string& below_min = "") const;
  // A number >= min (fractions allowed).
  double Double(const std::string& name, double fallback, double min) const;
  // A comma-separated list: of names, or of integers in [min, max].
  std::vector<std::string> List(const std::string& name, const std::vector<std::string>& fallback) const;
  std::vector<uint64_t> UintList(const std::string& name, const std::vector<uint64_t>& fallback,
                                 uint64_t min, uint64_t max) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::vector<std::string>& passthrough() const { return passthrough_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::vector<std::string> passthrough_;
  bool help_ = false;
};

}  // namespace bpe::cli
