/** The stack's counters are listed and typed in src/mib.ts; this path stays importable. */
export { MIB_COUNTERS, EXT_COUNTERS, IP_COUNTERS, DROP_PREFIX, newMib, type Mib, type MibName, type CounterName } from '../mib.js';
