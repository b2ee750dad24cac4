/** The view types diag works on are defined beside the stack that produces them (dependencies point down). */
export type { ConnRow, Counters, Snapshot } from '../stack/views.js';
