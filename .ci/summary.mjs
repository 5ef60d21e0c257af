// Adds up the pass/fail counts that vitest ("Tests  N passed | M failed") and Playwright ("N passed",
// "M failed") print, plus the training smoke ("SMOKE OK"), into one closing "N passed, M failed" line.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2], 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of text.split('\n')) {
  const vitest = line.match(/^\s*Tests\s+(.*)$/);
  if (vitest) {
    passed += Number(vitest[1].match(/(\d+) passed/)?.[1] ?? 0);
    failed += Number(vitest[1].match(/(\d+) failed/)?.[1] ?? 0);
    skipped += Number(vitest[1].match(/(\d+) skipped/)?.[1] ?? 0);
    continue;
  }
  const pw = line.match(/^\s+(\d+) (passed|failed|skipped|flaky)( \(.*\))?\s*$/);
  if (pw) {
    if (pw[2] === 'passed') passed += Number(pw[1]);
    else if (pw[2] === 'skipped') skipped += Number(pw[1]);
    else failed += Number(pw[1]);
    continue;
  }
  if (/^SMOKE OK/.test(line)) passed += 1;
  if (/^SMOKE FAILED/.test(line)) failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
