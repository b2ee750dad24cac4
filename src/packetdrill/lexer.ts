/**
 * The packetdrill lexer: script text → tokens, following google/packetdrill's lexer.l.
 *
 * Like flex, every rule is tried at the current position and the LONGEST match wins; on a tie the
 * rule listed first wins. That is what makes `0aabbccdd` a word, `0x1f` a hex integer, `-1` one
 * integer, `0.100` a float, `192.0.2.1` an IPv4 address and `fd::1` an IPv6 address, while
 * `1:1001(1000)` stays INTEGER ':' INTEGER '(' INTEGER ')'. Newlines are only whitespace: a
 * statement may continue on the next line anywhere.
 *
 * Reserved words (`ack`, `win`, `mss`, `fd`, `events`, `htons` ...) come out as `word` tokens with
 * `kw` set; the parser treats them as keywords, never as plain symbols, as packetdrill does.
 *
 * Deviations (all of them only accept more): `\r` is whitespace (CRLF files), a `//` comment may
 * end at end of file, a C comment may end in `**` + `/`.
 */
import { PacketdrillSyntaxError } from '../errors.js';

/** A syntax (or parse-time semantic) error, formatted `file:line:col: message` like packetdrill (src/errors.ts). */
export { PacketdrillSyntaxError };

export type TokenType =
  | 'int' // -?[0-9]+
  | 'hex' // 0x[0-9a-fA-F]+
  | 'float' // -?[0-9]*\.[0-9]+
  | 'word' // [a-zA-Z0-9_]+ (keywords have `kw` set)
  | 'string' // "..." (value: without the quotes, escapes kept as written)
  | 'backquoted' // `...` (value: without the backticks)
  | 'code' // %{ ... }% (value: between the delimiters)
  | 'option' // --name (value: name)
  | 'ellipsis' // ...
  | 'ipv4'
  | 'ipv6'
  | 'char' // any other single character: < > ( ) [ ] { } , : . = | + * ~ - ...
  | 'eof';

export interface Token {
  type: TokenType;
  /** The source text of the token. */
  text: string;
  /** The token's content: unquoted string/command/code text, option name; else `text`. */
  value: string;
  /** Canonical keyword name for reserved words (`Flags` → `flags`, `GREv0` → `gre`), else null. */
  kw: string | null;
  line: number;
  column: number;
}

/** Reserved words of lexer.l, mapped to a canonical name. */
const KEYWORDS: ReadonlyMap<string, string> = new Map(
  [
    'sa_family', 'sin_port', 'sin_addr', 'msg_name', 'msg_iov', 'msg_flags', 'msg_control',
    'cmsg_data', 'cmsg_level', 'cmsg_type', 'ee_errno', 'ee_origin', 'ee_type', 'ee_code',
    'ee_info', 'ee_data', 'scm_sec', 'scm_nsec', 'fd', 'u32', 'u64', 'ptr', 'events', 'revents',
    'onoff', 'linger', 'htons', 'ipv4', 'ipv6', 'icmp', 'udp', 'gre', 'raw', 'sum', 'off', 'key',
    'seq', 'none', 'checksum', 'present', 'mpls', 'label', 'tc', 'ttl', 'inet_addr',
    'inet6_addr', 'ack', 'eol', 'ecr', 'mss', 'mtu', 'nop', 'sack', 'sackOK', 'md5', 'TS', 'FO',
    'FOEXP', 'tos', 'flowlabel', 'flags', 'val', 'win', 'urg', 'wscale', 'ect01', 'ect0', 'ect1',
    'noecn', 'ce', 'id',
    // PSP encapsulation (newer packetdrill: `encap psp spi 23`, `psp spi 12, vc 0x1:`).
    'encap', 'psp', 'spi', 'vc',
  ].map((k) => [k, k] as [string, string]).concat([['Flags', 'flags'], ['GREv0', 'gre']]),
);

const SEG = '[0-9a-fA-F]{1,4}';
const IPV4 = '[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+';
/** lexer.l's v0..v12: an IPv6 address that cannot be confused with `1:1001`. */
const IPV6_RULES: RegExp[] = [
  '::',
  `(?:${SEG}:){7}${SEG}`,
  `(?:${SEG}:){1,7}:`,
  `(?:${SEG}:){1,6}:${SEG}`,
  `(?:${SEG}:){1,5}(?::${SEG}){1,2}`,
  `(?:${SEG}:){1,4}(?::${SEG}){1,3}`,
  `(?:${SEG}:){1,3}(?::${SEG}){1,4}`,
  `(?:${SEG}:){1,2}(?::${SEG}){1,5}`,
  `${SEG}:(?::${SEG}){1,6}`,
  `:(?::${SEG}){1,7}`,
  `::ffff:${IPV4}`,
  `::ffff:0{1,4}:${IPV4}`,
  `(?:${SEG}:){1,4}:${IPV4}`,
].map((s) => new RegExp(s, 'y'));

type RuleType = TokenType | 'skip';

/** The rules in lexer.l's order (which breaks ties between equally long matches). */
const RULES: [RuleType, RegExp | RegExp[]][] = [
  ['word', /sequence#/y],
  ['ellipsis', /\.\.\./y],
  ['option', /--[a-zA-Z0-9_]+/y],
  ['float', /-?[0-9]*\.[0-9]+/y],
  ['int', /-?[0-9]+/y],
  ['hex', /0x[0-9a-fA-F]+/y],
  ['word', /[a-zA-Z0-9_]+/y],
  ['string', /"(?:\\[^\n]|[^"])*"/y],
  ['backquoted', /`(?:\\[^\n]|[^`])*`/y],
  ['char', /[^ \t\n\r]/y],
  ['skip', /[ \t\n\r]+/y],
  ['skip', /\/\/[^\n]*(?:\n|$)/y],
  ['skip', /\/\*[\s\S]*?\*\//y],
  ['code', /%\{[\s\S]*?\}%/y],
  ['ipv4', new RegExp(IPV4, 'y')],
  ['ipv6', IPV6_RULES],
];

function matchLength(re: RegExp, text: string, pos: number): number {
  re.lastIndex = pos;
  const m = re.exec(text);
  return m === null ? -1 : m[0].length;
}

/** Splits `text` into tokens, ending with one `eof` token. Throws PacketdrillSyntaxError. */
export function tokenize(text: string, file = '<script>'): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  while (pos < text.length) {
    let bestType: RuleType | null = null;
    let bestLen = 0;
    for (const [type, res] of RULES) {
      for (const re of Array.isArray(res) ? res : [res]) {
        const len = matchLength(re, text, pos);
        if (len > bestLen) {
          bestLen = len;
          bestType = type;
        }
      }
    }
    if (bestType === null) {
      // Unreachable: the 'char' rule matches any non-space character.
      throw new PacketdrillSyntaxError(file, line, pos - lineStart + 1, 'unexpected character');
    }
    const raw = text.slice(pos, pos + bestLen);
    if (bestType !== 'skip') {
      tokens.push(makeToken(bestType, raw, line, pos - lineStart + 1));
    }
    // Advance, counting the newlines inside the token (comments, commands, code, strings).
    for (let i = pos; i < pos + bestLen; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    pos += bestLen;
  }
  tokens.push({ type: 'eof', text: '', value: '', kw: null, line, column: pos - lineStart + 1 });
  return tokens;
}

function makeToken(type: TokenType, raw: string, line: number, column: number): Token {
  let value = raw;
  let kw: string | null = null;
  switch (type) {
    case 'string':
    case 'backquoted':
      value = raw.slice(1, -1);
      break;
    case 'code':
      value = raw.slice(2, -2);
      break;
    case 'option':
      value = raw.slice(2);
      break;
    case 'word':
      kw = KEYWORDS.get(raw) ?? (raw === 'sequence#' ? 'sequence#' : null);
      break;
    default:
      break;
  }
  return { type, text: raw, value, kw, line, column };
}

/** A short description of a token for error messages: `'ack'`, `end of file`. */
export function describe(tok: Token): string {
  if (tok.type === 'eof') return 'end of file';
  const t = tok.text.length > 40 ? `${tok.text.slice(0, 37)}...` : tok.text;
  return `'${t.replace(/\n/g, '\\n')}'`;
}
