// tiktoken's Rust core compiled to WebAssembly (npm tiktoken): encode_ordinary, one call per document.
import { serve, require, packageVersion } from '../protocol.mjs';

serve({
  versions: () => ({ tiktoken: packageVersion('tiktoken') }),
  encoder(r) {
    const enc = require('tiktoken').get_encoding(r.vocabulary);
    return { encode: (text) => enc.encode_ordinary(text) };
  },
});
