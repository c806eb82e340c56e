/**
 * Text from the network (a CA's problem detail, its terms-of-service URL, an endpoint's error) is shown with
 * control and bidirectional-formatting characters made visible as \u{…} (docs/cli.md#data-safety): a CA cannot move the
 * cursor, clear the screen or reorder what a terminal shows. Long text is cut.
 */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function visibleText(text: string, maxLength = 1000): string {
  const shown = text.replace(HIDDEN, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`);
  return shown.length > maxLength ? `${shown.slice(0, maxLength)}…` : shown;
}
