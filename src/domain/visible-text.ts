/**
 * Text from the network (a CA's problem detail, its terms-of-service URL, an endpoint's error) is shown with
 * control and bidirectional-formatting characters made visible as \u{…} (docs/cli.md#data-safety): a CA cannot move the
 * cursor, clear the screen, set the clipboard (OSC 52) or reorder what a terminal shows. Long text is cut.
 */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The same, but for text of several lines: line feeds and tabs are kept. */
const HIDDEN_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw that a terminal acts on: DEL, C1 controls, bidi formatting, line/paragraph separators. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

const shown = (c: string): string => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`;

export function visibleText(text: string, maxLength = 1000): string {
  const visible = text.replace(HIDDEN, shown);
  return visible.length > maxLength ? `${visible.slice(0, maxLength)}…` : visible;
}

/** Like visibleText, for a message of several lines put together by acmectl: keeps line feeds and tabs, cuts nothing. */
export function visibleLines(text: string): string {
  return text.replace(HIDDEN_IN_LINES, shown);
}

/**
 * JSON text (from JSON.stringify, which escapes only C0 controls) with every other character a terminal acts on
 * escaped as \uXXXX: the same JSON value, safe to print.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
