// Which Chromium the e2e tests drive and with which flags. Always an installed browser (never a
// Playwright download): $PLAYWRIGHT_CHROMIUM, else Debian's /usr/bin/chromium, else Playwright's own
// (which must already be installed; Playwright then only reports it missing).

import { existsSync } from 'node:fs';

export function chromiumExecutable(): string | undefined {
  const fromEnv = process.env.PLAYWRIGHT_CHROMIUM?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`PLAYWRIGHT_CHROMIUM=${fromEnv}: no such file`);
    return fromEnv;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined;
}

/** Flags that keep a test browser quiet and deterministic: no sync, updates, QUIC or first-run UI. */
export const quietFlags = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * --enable-unsafe-webgpu is the one flag headless Debian Chromium needs for WebGPU: with it,
 * requestAdapter() returns the SwiftShader (software Vulkan) adapter, no GPU or --enable-features=Vulkan needed.
 * Without it, navigator.gpu exists but requestAdapter() returns null, which is what the no-WebGPU test uses.
 */
export const webgpuFlags = ['--enable-unsafe-webgpu'];
