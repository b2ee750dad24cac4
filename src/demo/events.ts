/**
 * The demo's event format is defined beside the reconstruction that also produces it
 * (src/diag/events.ts), so diag does not import from demo (dependencies point down); this path
 * stays importable.
 */
export type { DemoEvent, DemoResult } from '../diag/events.js';
