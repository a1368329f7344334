// File helpers with the error messages users should see: which file, and what is wrong with it.
#pragma once

#include <string>
#include <string_view>

namespace bpe {

// Reads a whole file ("-" is standard input). Throws bpe::Error for a missing, unreadable or
// directory path.
std::string ReadFile(const std::string& path);

// Writes data to a temporary file in the same folder, then renames it over path, so readers never
// see a partial file. Throws bpe::Error when the folder is not writable or the disk is full.
void WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace bpe
