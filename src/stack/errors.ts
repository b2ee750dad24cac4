/** The stack's user-API error lives in the one error module (src/errors.ts); this path stays importable. */
export { StackError } from '../errors.js';
