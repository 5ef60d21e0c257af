// Shared look of the demo's elements: system font, a neutral gray palette (the seed picture's white and
// light-gray nodes on white), one accent for actions and one for errors. Elements adopt these via `static styles`.

import { css } from 'lit';

export const theme = css`
  :host {
    --sg-font: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
    --sg-mono: ui-monospace, 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace;
    --sg-fg: #1d1d1f;
    --sg-muted: #6b6b70;
    --sg-faint: #d9d9de;
    --sg-surface: #ffffff;
    --sg-bg: #f5f5f7;
    --sg-border: #d2d2d7;
    --sg-accent: #1d1d1f;
    --sg-accent-fg: #ffffff;
    --sg-error: #b3261e;
    --sg-error-bg: #fdecea;
    --sg-radius: 8px;
    font-family: var(--sg-font);
    color: var(--sg-fg);
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button {
    font: inherit;
    border-radius: 6px;
    border: 1px solid var(--sg-border);
    background: var(--sg-surface);
    color: var(--sg-fg);
    padding: 0.45em 1.1em;
    cursor: pointer;
  }
  button.primary {
    background: var(--sg-accent);
    border-color: var(--sg-accent);
    color: var(--sg-accent-fg);
  }
  button:disabled {
    opacity: 0.45;
    cursor: default;
  }
  button:focus-visible,
  input:focus-visible,
  textarea:focus-visible {
    outline: 2px solid #0a66c2;
    outline-offset: 2px;
  }
  .error {
    color: var(--sg-error);
    background: var(--sg-error-bg);
    border-radius: 6px;
    padding: 0.6em 0.8em;
    margin: 0.5em 0;
    overflow-wrap: anywhere;
  }
  .muted {
    color: var(--sg-muted);
  }
  code {
    font-family: var(--sg-mono);
    font-size: 0.92em;
  }
`;
