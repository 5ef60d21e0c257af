// Bounded previews of untrusted values for error messages. Any JSON value (or anything else) becomes at
// most `maxChars` characters of JSON-like text, without recursion (an explicit stack), so a deeply nested
// or huge value from a file can neither overflow the stack nor make a message long. Every error that echoes
// a value from a file or an argument goes through previewJson or clipText.

/** How many characters of a value an error message shows (then "…"). */
export const PREVIEW_CHARS = 200;
/** Containers nested deeper than this show as [...] / {...}. */
export const PREVIEW_DEPTH = 8;

/** s cut to maxChars characters (never splitting a surrogate pair), with "…" when it was longer. */
export function clipText(s: string, maxChars: number = PREVIEW_CHARS): string {
  if (s.length <= maxChars) return s;
  let end = Math.max(0, maxChars);
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // do not leave a lone high surrogate
  return `${s.slice(0, end)}…`;
}

/** A string as a JSON literal of about `room` characters at most (cut before quoting, so huge strings cost little). */
function quoted(s: string, room: number): string {
  if (s.length + 2 <= room) return JSON.stringify(s);
  const q = JSON.stringify(clipText(s, Math.max(1, room - 3)).replace(/…$/, ''));
  return `${q.slice(0, -1)}…"`;
}

function scalar(v: unknown, room: number): string | undefined {
  switch (typeof v) {
    case 'string': return quoted(v, room);
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'boolean': return String(v);
    case 'undefined': return 'undefined';
    case 'bigint': return `${v}n`;
    case 'symbol': return v.toString();
    case 'function': return '[function]';
    default: return v === null ? 'null' : undefined;
  }
}

type Frame =
  | { kind: 'text'; text: string }
  | { kind: 'value'; value: unknown; depth: number }
  | { kind: 'array'; value: ArrayLike<unknown>; index: number; depth: number }
  | { kind: 'object'; keys: Iterator<string>; value: Record<string, unknown>; first: boolean; depth: number };

function* ownKeys(o: object): Generator<string> {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) yield k;
}

/**
 * A preview of any value as JSON-like text of at most maxChars characters (plus a final "…" when cut):
 * strings quoted and escaped, numbers as JavaScript prints them (NaN, Infinity, -0), arrays and objects
 * element by element until the budget is spent, containers deeper than PREVIEW_DEPTH as [...] / {...}.
 * Iterative: its stack holds at most PREVIEW_DEPTH containers, whatever the value.
 */
export function previewJson(v: unknown, maxChars: number = PREVIEW_CHARS): string {
  let out = '';
  const stack: Frame[] = [{ kind: 'value', value: v, depth: 0 }];
  while (stack.length > 0 && out.length <= maxChars) {
    const f = stack[stack.length - 1];
    if (f.kind === 'text') {
      stack.pop();
      out += f.text;
    } else if (f.kind === 'value') {
      stack.pop();
      const s = scalar(f.value, Math.max(4, maxChars - out.length));
      if (s !== undefined) {
        out += s;
      } else if (Array.isArray(f.value) || ArrayBuffer.isView(f.value)) {
        if (f.depth >= PREVIEW_DEPTH) {
          out += '[...]';
        } else {
          out += '[';
          stack.push({ kind: 'text', text: ']' }, { kind: 'array', value: f.value as unknown as ArrayLike<unknown>, index: 0, depth: f.depth + 1 });
        }
      } else {
        const o = f.value as Record<string, unknown>;
        if (f.depth >= PREVIEW_DEPTH) {
          out += '{...}';
        } else {
          out += '{';
          stack.push({ kind: 'text', text: '}' }, { kind: 'object', keys: ownKeys(o), value: o, first: true, depth: f.depth + 1 });
        }
      }
    } else if (f.kind === 'array') {
      if (f.index >= f.value.length) {
        stack.pop();
        continue;
      }
      if (f.index > 0) out += ',';
      stack.push({ kind: 'value', value: f.value[f.index++], depth: f.depth });
    } else {
      const next = f.keys.next();
      if (next.done) {
        stack.pop();
        continue;
      }
      out += `${f.first ? '' : ','}${quoted(next.value, Math.max(4, maxChars - out.length - 2))}:`;
      f.first = false;
      stack.push({ kind: 'value', value: f.value[next.value], depth: f.depth });
    }
  }
  if (stack.length > 0 || out.length > maxChars) return clipText(out, maxChars).replace(/…?$/, '…');
  return out;
}

/** The message of an error (or the text of anything thrown), clipped to maxChars for display. */
export function boundedMessage(e: unknown, maxChars = 1000): string {
  const text = e instanceof Error ? e.message : typeof e === 'string' ? e : previewJson(e);
  return clipText(String(text), maxChars);
}
