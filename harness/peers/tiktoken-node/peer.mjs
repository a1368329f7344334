// tiktoken's Rust core (tiktoken-rs) through its native N-API binding (npm tiktoken-node): encode per
// document, and encodeBatch over all documents (rayon; RAYON_NUM_THREADS sets its threads).
import { serve, require, packageVersion } from '../protocol.mjs';

serve({
  versions: () => ({ 'tiktoken-node': packageVersion('tiktoken-node') }),
  encoder(r) {
    const enc = require('tiktoken-node').getEncoding(r.vocabulary);
    return { encode: (text) => enc.encode(text), batch: (texts) => enc.encodeBatch(texts) };
  },
});
