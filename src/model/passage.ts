// The fixed English passage the page measures perplexity on (src/model/perplexity.ts). Written for this
// project and dedicated to the public domain; plain prose, not a famous text a model may have memorised.
// About 100 GPT-2 tokens; a model with another tokenizer gets whatever its tokenizer makes of it.

export const PERPLEXITY_PASSAGE =
  'On the morning of the first frost, the ferryman crossed the lake twice before the village woke. ' +
  'He carried a crate of apples, two letters and a schoolteacher who had missed the evening boat. ' +
  'The water was so still that the oars left long silver marks behind them, and the teacher said it ' +
  'looked as if someone had written on the lake and forgotten to sign the page. The ferryman laughed, ' +
  'because he had thought the same thing every winter for thirty years.';
