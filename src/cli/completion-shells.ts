/** The shells `acmectl completion` writes scripts for (kept apart from the renderers so start-up loads none). */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];
