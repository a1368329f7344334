// HuggingFace tokenizers' Rust core through its native N-API binding (npm tokenizers). Encodes with a
// tokenizer.json (bpebench's own model, exported: its ids must be ours) through encodeBatch, and
// trains with the binding's BpeTrainer (vocabulary 30000: the binding has no size option). Its Rust
// code prints progress bars on stdout, so replies go to descriptor 3 (reply_fd in peer.json).
import { serve, require, packageVersion } from '../protocol.mjs';

serve({
  versions: () => ({ tokenizers: packageVersion('tokenizers') }),
  encoder(r) {
    if (r.model_format !== 'hf_json') throw new Error(`cannot read models of format ${r.model_format}`);
    const tok = require('tokenizers').Tokenizer.fromFile(r.model);
    const batch = async (texts) => (await tok.encodeBatch(texts, { addSpecialTokens: false })).map((e) => e.getIds());
    return { batch };
  },
  train(r) {
    if (r.vocab_size !== 30000) throw new Error('the Node binding trains at vocabulary 30000 only');
    const { Tokenizer, BPE, byteLevelPreTokenizer } = require('tokenizers');
    const tok = new Tokenizer(BPE.empty());
    tok.setPreTokenizer(byteLevelPreTokenizer(false, true));  // GPT-2's pattern, no prefix space
    tok.train([r.input]);  // the binding's default BpeTrainer: vocabulary 30000, alphabet: characters seen
    return { vocab_size: tok.getVocabSize() };
  },
});
