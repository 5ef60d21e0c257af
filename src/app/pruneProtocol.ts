// Messages between the page and the prune worker (prune-worker.ts), typed once for both ends.

import type { RawModelFiles } from './modelCache';
import type { PruneProgress, PruneSettings } from './pruneInPage';

export interface PruneWorkerRequest {
  /** Name of the source for error messages (its base URL). */
  source: string;
  /** Where the source model is stored in the model cache; the worker reads it from there. */
  cacheBase?: string;
  /** The source files themselves (their buffers transferred), when they are not stored. */
  files?: RawModelFiles;
  settings: PruneSettings;
}

export type PruneWorkerReply =
  | { kind: 'progress'; progress: PruneProgress }
  | { kind: 'done'; safetensors: ArrayBuffer; keptBlocks: number; totalBlocks: number; calibrationTokens?: number }
  | { kind: 'error'; name: string; message: string; code?: string };
