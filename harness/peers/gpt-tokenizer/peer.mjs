// gpt-tokenizer, a pure JavaScript port of tiktoken (its gpt2 vocabulary is r50k_base).
import { serve, require, packageVersion } from '../protocol.mjs';

const files = { gpt2: 'r50k_base', cl100k_base: 'cl100k_base', o200k_base: 'o200k_base' };

serve({
  versions: () => ({ 'gpt-tokenizer': packageVersion('gpt-tokenizer') }),
  encoder(r) {
    if (!files[r.vocabulary]) throw new Error(`no vocabulary ${r.vocabulary}`);
    const { encode } = require(`gpt-tokenizer/cjs/encoding/${files[r.vocabulary]}`);
    const options = { disallowedSpecial: new Set() };  // special-token text is ordinary text here
    return { encode: (text) => encode(text, options) };
  },
});
