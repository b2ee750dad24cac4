/**
 * A cursor over the token list with the small vocabulary the recursive-descent parser is written
 * in: peek/next, `atChar('<')`, `atKw('ack')`, `isWord()`, `expect...`, and errors that point at
 * the offending token (`file:line:col: syntax error at 'x': expected y`).
 */
import type { Pos } from './ast.js';
import { describe, PacketdrillSyntaxError, type Token } from './lexer.js';

export class TokenStream {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    readonly file: string,
  ) {}

  peek(k = 0): Token {
    const j = Math.min(this.i + k, this.tokens.length - 1);
    return this.tokens[j]!;
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  atEof(): boolean {
    return this.peek().type === 'eof';
  }

  /** Is the k-th token the single character `c`? */
  atChar(c: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'char' && t.text === c;
  }

  /** Is the k-th token the reserved word `kw` (canonical name)? */
  atKw(kw: string, k = 0): boolean {
    return this.peek(k).kw === kw;
  }

  /** Is the k-th token a plain word (not a reserved word)? */
  isWord(k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'word' && t.kw === null;
  }

  /** Consumes `c` if it is next; returns whether it did. */
  acceptChar(c: string): boolean {
    if (!this.atChar(c)) return false;
    this.next();
    return true;
  }

  acceptKw(kw: string): boolean {
    if (!this.atKw(kw)) return false;
    this.next();
    return true;
  }

  expectChar(c: string): Token {
    if (!this.atChar(c)) this.fail(`'${c}'`);
    return this.next();
  }

  expectKw(kw: string): Token {
    if (!this.atKw(kw)) this.fail(`'${kw}'`);
    return this.next();
  }

  expectWord(what: string): Token {
    if (!this.isWord()) this.fail(what);
    return this.next();
  }

  expectType(type: Token['type'], what: string): Token {
    if (this.peek().type !== type) this.fail(what);
    return this.next();
  }

  /** A decimal INTEGER token's value (packetdrill's INTEGER: optional '-', digits). */
  expectInt(what: string): number {
    if (this.peek().type !== 'int') this.fail(what);
    return this.intValue(this.next());
  }

  /** A decimal or hex integer (packetdrill's any_int). */
  expectAnyInt(what: string): number {
    const t = this.peek();
    if (t.type !== 'int' && t.type !== 'hex') this.fail(what);
    return this.intValue(this.next());
  }

  /** An integer in [0, max]; `what` names it in the out-of-range message (as packetdrill's). */
  expectRange(what: string, max: number, outOfRange: string, hex = false): number {
    const t = this.peek();
    const v = hex ? this.expectAnyInt(what) : this.expectInt(what);
    if (v < 0 || v > max) this.semantic(t, outOfRange);
    return v;
  }

  intValue(t: Token): number {
    const v = t.type === 'hex' ? parseInt(t.text.slice(2), 16) : Number(t.text);
    if (!Number.isSafeInteger(v)) this.semantic(t, `integer ${t.text} out of range`);
    return v;
  }

  pos(t: Token = this.peek()): Pos {
    return { line: t.line, column: t.column };
  }

  /** Throws `syntax error at <token>: expected <expected>` at the current token. */
  fail(expected: string, t: Token = this.peek()): never {
    throw new PacketdrillSyntaxError(
      this.file,
      t.line,
      t.column,
      `syntax error at ${describe(t)}: expected ${expected}`,
    );
  }

  /** Throws `semantic error: <message>` at `t` (packetdrill's semantic_error). */
  semantic(t: Pos, message: string): never {
    throw new PacketdrillSyntaxError(this.file, t.line, t.column, `semantic error: ${message}`);
  }
}

export const U8 = 0xff;
export const U16 = 0xffff;
export const U20 = 0xfffff;
export const U32 = 0xffffffff;
