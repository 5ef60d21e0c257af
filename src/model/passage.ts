// The fixed passages the page measures perplexity on (src/model/perplexity.ts), the default prompt and the
// example prompts, per text domain: Python for the embedded models (trained only on Python source), English
// for GPT-2. Both passages were written for this project and are dedicated to the public domain, so they
// are in no training corpus: the Python one by construction (it is not in any Debian package), the English
// one is plain prose, not a famous text a model may have memorised.

/** What a model was trained to continue. */
export type TextDomain = 'code' | 'english';

export interface Passage {
  /** How the page names it: "the built-in <name> passage". */
  name: string;
  text: string;
}

const PYTHON_PASSAGE = `import os
from collections import defaultdict


class Inventory:
    """Counts items per shelf and reports the shelves that run low."""

    def __init__(self, minimum=3):
        self.minimum = minimum
        self.shelves = defaultdict(dict)

    def add(self, shelf, item, count=1):
        if count <= 0:
            raise ValueError("count must be positive")
        items = self.shelves[shelf]
        items[item] = items.get(item, 0) + count
        return items[item]

    def low(self):
        result = []
        for shelf, items in sorted(self.shelves.items()):
            for item, count in items.items():
                if count < self.minimum:
                    result.append((shelf, item, count))
        return result


def load(path):
    inventory = Inventory()
    with open(os.path.join(path, "stock.txt")) as f:
        for line in f:
            shelf, item, count = line.split()
            inventory.add(shelf, item, int(count))
    return inventory
`;

const ENGLISH_PASSAGE =
  'On the morning of the first frost, the ferryman crossed the lake twice before the village woke. ' +
  'He carried a crate of apples, two letters and a schoolteacher who had missed the evening boat. ' +
  'The water was so still that the oars left long silver marks behind them, and the teacher said it ' +
  'looked as if someone had written on the lake and forgotten to sign the page. The ferryman laughed, ' +
  'because he had thought the same thing every winter for thirty years.';

export const PASSAGES: Record<TextDomain, Passage> = {
  code: { name: 'Python', text: PYTHON_PASSAGE },
  english: { name: 'English', text: ENGLISH_PASSAGE },
};

/** The English passage, as before the passages were per domain (about 100 GPT-2 tokens). */
export const PERPLEXITY_PASSAGE = ENGLISH_PASSAGE;

/** The prompt box's first text and a few examples to pick from, per domain. The code prompts end inside
 * a line: the embedded models' BPE joins a newline with the next line's indentation ("\n   " + " return"),
 * so a prompt ending in "\n" asks for a token split they never saw in training (they indent with a tab). */
export const PROMPTS: Record<TextDomain, { initial: string; examples: string[] }> = {
  code: {
    initial: 'def add(a, b):\n    return',
    examples: [
      'def add(a, b):\n    return',
      'import os\n\n\ndef read_lines(path):\n    with',
      'class Stack:\n    def __init__(self):\n        self.',
      'for i, line in enumerate(',
      'if __name__ == "__main__":\n    main',
    ],
  },
  english: {
    initial: 'The meaning of life is',
    examples: ['The meaning of life is', 'Once upon a time,', 'The best way to learn a language is'],
  },
};
