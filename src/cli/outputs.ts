// Writing the CLI's outputs so that nothing half-written is ever left under a real name and no input is
// ever replaced: every file is written under a temporary name in its target folder and renamed into place at
// the end; a failure removes everything this command wrote (temporary files, folders it created) and puts
// back any file it had moved aside. Used by convert, prune, make-test-model and generate --record.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, realpath, rename, rm, stat, unlink, writeFile, open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { clipText } from '../shared/preview';
import { RECORDING_FORMAT } from '../probes/snapshot';
import { ModelFormatError } from '../model/errors';

/** An output could not be written, or writing it would replace an input or a file that is not ours: main prints it, exit 1. */
export class OutputError extends Error {
  constructor(message: string) {
    super(clipText(message, 1500));
    this.name = 'OutputError';
  }
}

export interface OutputFile {
  /** File name inside the output folder. */
  name: string;
  data: Uint8Array | string;
}

const code = (e: unknown): string | undefined => (e as { code?: string })?.code;
const why = (e: unknown): string => clipText(String((e as Error)?.message ?? e), 300);
const tmpName = (name: string): string => `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(path);
  } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null;
    throw new OutputError(`${path}: cannot read (${why(e)})`);
  }
}

/** Identity (device, inode) and real path of each existing input file. */
async function identities(inputs: readonly string[]): Promise<Array<{ path: string; real: string; dev: number; ino: number }>> {
  const out = [];
  for (const p of inputs) {
    const st = await statOrNull(p);
    if (!st) continue;
    out.push({ path: p, real: await realpath(p).catch(() => resolve(p)), dev: st.dev, ino: st.ino });
  }
  return out;
}

/**
 * Refuses an output path that is, or is the same file as, one of the inputs (a symlinked folder, a hard
 * link, or the same path spelled differently): an output never replaces an input file.
 */
export async function refuseInputTarget(target: string, inputs: readonly string[]): Promise<void> {
  const ids = await identities(inputs);
  const parent = await realpath(dirname(target)).catch(() => resolve(dirname(target)));
  const real = join(parent, basename(target));
  const st = await statOrNull(target);
  for (const i of ids) {
    if (i.real === real || (st && st.dev === i.dev && st.ino === i.ino)) {
      throw new OutputError(`${target}: is the input file ${i.path}; an output never replaces an input: choose another output`);
    }
  }
}

/** Deletes paths, ignoring ones already gone (best effort: used while failing). */
async function removeQuietly(paths: readonly string[]): Promise<void> {
  for (const p of paths) await rm(p, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Writes files into the folder dir as one unit. If dir does not exist, the files are written into a new
 * temporary folder beside it, which is renamed to dir at the end. If it exists, each file is written under a
 * temporary name inside it, existing files of those names are moved aside, the new ones renamed into place,
 * and the old ones deleted; a failure at any step removes what was written and moves the old files back.
 * Refused before anything is written: dir is a file, an output name is a folder, or an output would
 * replace one of `inputs`.
 */
export async function writeOutputDir(dir: string, files: readonly OutputFile[], inputs: readonly string[] = []): Promise<void> {
  const existing = await statOrNull(dir);
  if (existing && !existing.isDirectory()) throw new OutputError(`${dir}: exists and is not a folder; the output must be a folder (new or existing)`);
  for (const f of files) {
    const target = join(dir, f.name);
    const st = existing ? await lstat(target).catch(() => null) : null;
    if (st?.isDirectory()) throw new OutputError(`${target}: is a folder, so ${f.name} cannot be written there; remove it or choose another output folder`);
    await refuseInputTarget(target, inputs);
  }

  if (!existing) {
    const parent = dirname(resolve(dir));
    let createdParent: string | undefined;
    try {
      createdParent = await mkdir(parent, { recursive: true });
    } catch (e) {
      throw new OutputError(`${dir}: cannot create its parent folder (${why(e)})`);
    }
    const tmp = join(parent, tmpName(basename(resolve(dir))));
    try {
      await mkdir(tmp);
      for (const f of files) await writeFile(join(tmp, f.name), f.data);
      await rename(tmp, dir);
    } catch (e) {
      await removeQuietly([tmp, ...(createdParent ? [createdParent] : [])]);
      throw new OutputError(`${dir}: cannot write the output (${why(e)}); nothing was left behind`);
    }
    return;
  }

  const temps = files.map((f) => ({ f, target: join(dir, f.name), tmp: join(dir, tmpName(f.name)), aside: '' }));
  const placed: string[] = [];
  try {
    for (const t of temps) await writeFile(t.tmp, t.f.data);
    for (const t of temps) {
      if (await lstat(t.target).then(() => true, () => false)) {
        t.aside = join(dir, tmpName(`${t.f.name}.old`));
        await rename(t.target, t.aside);
      }
    }
    for (const t of temps) {
      await rename(t.tmp, t.target);
      placed.push(t.target);
    }
  } catch (e) {
    await removeQuietly([...temps.map((t) => t.tmp), ...placed]);
    for (const t of temps) if (t.aside) await rename(t.aside, t.target).catch(() => undefined);
    throw new OutputError(`${dir}: cannot write the output (${why(e)}); the folder was left as it was`);
  }
  await removeQuietly(temps.filter((t) => t.aside).map((t) => t.aside));
}

/**
 * Writes one file atomically: under a temporary name in its folder, then renamed over the target. A failure
 * removes the temporary file and leaves any old file untouched. The folder must exist.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, inputs: readonly string[] = []): Promise<void> {
  const dir = dirname(resolve(file));
  const st = await statOrNull(dir);
  if (!st || !st.isDirectory()) throw new OutputError(`${file}: its folder ${dir} does not exist`);
  const target = await lstat(file).catch(() => null);
  if (target?.isDirectory()) throw new OutputError(`${file}: is a folder; choose a file name`);
  await refuseInputTarget(file, inputs);
  const tmp = join(dir, tmpName(basename(file)));
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await removeQuietly([tmp]);
    throw new OutputError(`${file}: cannot write (${why(e)}); nothing was left behind`);
  }
}

/** True when the file's first bytes carry the recording format tag ({"format": "sparse-gpt2-recording", …). */
export async function isRecordingFile(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
    const buf = new Uint8Array(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(0, bytesRead));
    return new RegExp(`^\\s*\\{\\s*"format"\\s*:\\s*"${RECORDING_FORMAT}"`).test(head);
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/**
 * Checks, before any work, that `--record FILE` may be written: its folder exists, it is not a folder, not
 * one of the inputs, and if it exists it is a recording (by its format tag) or force is set.
 */
export async function checkRecordTarget(file: string, force: boolean, inputs: readonly string[]): Promise<void> {
  const dir = dirname(resolve(file));
  const d = await statOrNull(dir);
  if (!d || !d.isDirectory()) throw new OutputError(`--record ${file}: its folder ${dir} does not exist`);
  const st = await lstat(file).catch(() => null);
  if (st?.isDirectory()) throw new OutputError(`--record ${file}: is a folder; give a file name such as run.sparse-gpt2-recording.json`);
  await refuseInputTarget(file, inputs);
  if (st && !force && !(await isRecordingFile(file))) {
    throw new OutputError(`--record ${file}: exists and is not a ${RECORDING_FORMAT} file (no "format": "${RECORDING_FORMAT}" tag at its start); ` +
      'pass --force to replace it, or choose another file');
  }
}

/** The bytes of an input file (for copying it into an output unchanged); ModelFormatError 'io' when it cannot be read. */
export async function readInput(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new ModelFormatError({ file, code: 'io', problem: `cannot read (${why(e)})` });
  }
}
