// Entry point of `npm run -s cli -- <command> ...`: dispatches to one module per command and turns
// usage, file and no-WebGPU errors into one `error: ...` line on stderr and a non-zero exit.

import { CliError } from './args';
import { clipText, previewJson } from '../shared/preview';

/** Longest error line the CLI prints (after "error: "). */
export const MAX_ERROR_CHARS = 2000;

export const USAGE = `usage: npm run -s cli -- <command> [options]

commands:
  generate         --model DIR (--prompt TEXT | --ids 1,2,3) --tokens N [--greedy] [--json]
  bench            --model DIR [--prompt-tokens P] [--tokens N] [--json]
  make-test-model  --out DIR --layers L --heads H --embd D --vocab V --ctx C --seed S [--dtype F32|F16|BF16]
                   --out DIR --preset gpt2-124m [--seed S]
  inspect          --model DIR [--json]
  convert          --model DIR --to dense|bsr [--block B] --out DIR
  prune            --model DIR --density 0.125 --block 32 [--method magnitude|activation] [--calibration FILE] --out DIR

Run \`npm run -s cli -- <command> --help\` for a command's options.`;

interface CommandModule {
  run(args: string[]): Promise<void>;
}

/**
 * Command -> module, imported lazily so one command's heavy dependencies (Dawn for generate/bench)
 * load only when used.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  generate: () => import('./generate'),
  bench: () => import('./bench'),
  'make-test-model': () => import('./makeTestModel'),
  inspect: () => import('./inspect'),
  convert: () => import('./convert'),
  prune: () => import('./prune'),
};

async function loadCommand(name: string): Promise<CommandModule> {
  return COMMANDS[name]();
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Exit code for an error: 2 for usage, 1 for everything else. */
export function exitCodeFor(e: unknown): number {
  return e instanceof CliError ? 2 : 1;
}

async function flush(stream: NodeJS.WriteStream): Promise<void> {
  await new Promise<void>((resolve) => stream.write('', () => resolve()));
}

/** Runs the CLI and returns the exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!Object.prototype.hasOwnProperty.call(COMMANDS, command)) {
    process.stderr.write(`error: unknown command ${previewJson(command)}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const mod = await loadCommand(command);
    await mod.run(rest);
    return 0;
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    // CliError, ModelFormatError, OutputError, GenerationError and NoWebGPUError carry complete messages; anything else is unexpected,
    // so its name goes in front (and the stack too when SPARSE_GPT2_DEBUG is set).
    const known = err instanceof CliError || ['ModelFormatError', 'NoWebGPUError', 'OutputError', 'GenerationError'].includes(err.name);
    // Bounded: every message that echoes a value previews it (src/shared/preview.ts); this only cuts runaways.
    process.stderr.write(`error: ${clipText(oneLine(known || err.name === 'Error' ? err.message : `${err.name}: ${err.message}`), MAX_ERROR_CHARS)}\n`);
    if (process.env.SPARSE_GPT2_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}

const isEntry = (() => {
  const entry = process.argv[1];
  if (!entry) return false;
  return /[\\/]cli[\\/]main\.(ts|js|mjs)$/.test(entry);
})();

if (isEntry) {
  const code = await main(process.argv.slice(2));
  await flush(process.stdout);
  await flush(process.stderr);
  // Dawn keeps the event loop alive after generate/bench: always leave explicitly.
  process.exit(code);
}
