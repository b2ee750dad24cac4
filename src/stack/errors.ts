/**
 * Errors thrown by the stack's user API for bad calls, with Node/POSIX errno codes
 * (DESIGN.md principle 12). Errors of a connection's life arrive as events instead.
 */
export class StackError extends Error {
  constructor(
    readonly code: 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EINVAL' | 'ENOTCONN' | 'EPIPE' | 'EISCONN' | 'ECONNREFUSED',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'StackError';
  }
}
