/**
 * System call expressions (parser.y `expression` and friends): integers, symbols, strings, `...`,
 * `a|b`, `name=value`, arrays, `{...}` structs and the fixed-shape structs packetdrill knows
 * (sockaddr, msghdr, iovec, pollfd, epoll_event, linger, cmsg, scm_timestamping,
 * sock_extended_err, MPLS stack, GRE header).
 */
import type { Expr, ExprOf, GreHeader, MplsEntry, Pos } from './ast.js';
import { TokenStream, U16 } from './stream.js';

/** expression_list: expression (',' expression)* */
export function parseExprList(s: TokenStream, close: string): Expr[] {
  const list: Expr[] = [];
  if (s.atChar(close)) return list;
  list.push(parseExpr(s));
  while (s.acceptChar(',')) list.push(parseExpr(s));
  return list;
}

/** expression, with `|` left-associative. */
export function parseExpr(s: TokenStream): Expr {
  let lhs = parseUnary(s);
  while (s.atChar('|')) {
    const op = s.next();
    const rhs = parseUnary(s);
    lhs = { type: 'binary', op: '|', lhs, rhs, ...s.pos(op) };
  }
  return lhs;
}

/** `WORD '=' expression` binds loosest, as in bison (the right side takes a whole expression). */
function parseUnary(s: TokenStream): Expr {
  if (s.isWord() && s.atChar('=', 1)) {
    const name = s.next();
    s.next();
    return { type: 'assign', name: name.text, value: parseExpr(s), ...s.pos(name) };
  }
  return parsePrimary(s);
}

function parsePrimary(s: TokenStream): Expr {
  const t = s.peek();
  const at = s.pos(t);
  switch (t.type) {
    case 'ellipsis':
      s.next();
      return { type: 'ellipsis', ...at };
    case 'int':
    case 'hex':
      s.next();
      return { type: 'int', value: s.intValue(t), hex: t.type === 'hex', ...at };
    case 'string': {
      s.next();
      const ellipsis = s.peek().type === 'ellipsis';
      if (ellipsis) s.next();
      return { type: 'string', value: t.value, ellipsis, ...at };
    }
    case 'word':
      if (t.kw === null) {
        s.next();
        return { type: 'symbol', name: t.text, ...at };
      }
      if (t.kw === 'inet_addr' || t.kw === 'inet6_addr') {
        s.next();
        s.expectChar('(');
        const addr = s.expectType('string', 'an address string').value;
        s.expectChar(')');
        return { type: t.kw, address: addr, ...at };
      }
      if (t.kw === 'htons') {
        s.next();
        s.expectChar('(');
        const v = s.expectRange('a port number', U16, 'htons value out of range');
        s.expectChar(')');
        return { type: 'htons', value: v, ...at };
      }
      break;
    case 'char':
      if (t.text === '[') {
        s.next();
        const elements = parseExprList(s, ']');
        s.expectChar(']');
        return { type: 'array', elements, ...at };
      }
      if (t.text === '{') return parseBrace(s);
      break;
    default:
      break;
  }
  return s.fail('an expression');
}

/** `name '=' expression` inside a fixed-shape struct: the reserved field name must match. */
function field(s: TokenStream, kw: string): Expr {
  s.expectKw(kw);
  s.expectChar('=');
  return parseExpr(s);
}

function intField(s: TokenStream, kw: string): number {
  s.expectKw(kw);
  s.expectChar('=');
  return s.expectInt('an integer');
}

/** Everything that starts with `{`; the first token(s) inside pick the shape. */
function parseBrace(s: TokenStream): Expr {
  const at: Pos = s.pos(s.expectChar('{'));
  const t = s.peek();
  let e: Expr;
  switch (t.kw) {
    case 'sa_family':
      e = parseSockaddr(s, at);
      break;
    case 'msg_name':
      e = parseMsghdr(s, at);
      break;
    case 'cmsg_level': {
      const level = field(s, 'cmsg_level');
      s.expectChar(',');
      const cmsgType = field(s, 'cmsg_type');
      s.expectChar(',');
      e = { type: 'cmsg', level, cmsgType, data: field(s, 'cmsg_data'), ...at };
      break;
    }
    case 'scm_sec': {
      const sec = intField(s, 'scm_sec');
      s.expectChar(',');
      e = { type: 'scm_timestamping', sec, nsec: intField(s, 'scm_nsec'), ...at };
      break;
    }
    case 'ee_errno': {
      const f: Expr[] = [];
      for (const kw of ['ee_errno', 'ee_origin', 'ee_type', 'ee_code', 'ee_info', 'ee_data']) {
        if (f.length > 0) s.expectChar(',');
        f.push(field(s, kw));
      }
      const [errno, origin, eeType, code, info, data] = f as [Expr, Expr, Expr, Expr, Expr, Expr];
      e = { type: 'sock_extended_err', errno, origin, eeType, code, info, data, ...at };
      break;
    }
    case 'fd': {
      const fd = field(s, 'fd');
      s.expectChar(',');
      const events = field(s, 'events');
      const revents = s.acceptChar(',') ? field(s, 'revents') : null;
      e = { type: 'pollfd', fd, events, revents, ...at };
      break;
    }
    case 'events': {
      const events = field(s, 'events');
      s.expectChar(',');
      const k = s.peek().kw;
      if (k !== 'fd' && k !== 'ptr' && k !== 'u32' && k !== 'u64') s.fail("'fd', 'ptr', 'u32' or 'u64'");
      e = { type: 'epollev', events, field: k, value: field(s, k), ...at };
      break;
    }
    case 'onoff': {
      const onoff = intField(s, 'onoff');
      s.expectChar(',');
      e = { type: 'linger', onoff, linger: intField(s, 'linger'), ...at };
      break;
    }
    case 'flags':
      e = { type: 'gre', header: parseGreHeader(s), ...at };
      break;
    default:
      if (t.type === 'ellipsis' && s.atChar(',', 1)) {
        // iovec: '{' ELLIPSIS ',' decimal_integer '}' (bison shifts here, so `{..., x, y}` is an
        // error in packetdrill too).
        s.next();
        s.next();
        e = { type: 'iovec', len: s.expectInt('an iovec length'), ...at };
      } else if (s.atChar('(') || s.atChar('}')) {
        // mpls_stack_expression: '{' mpls_stack '}' (so packetdrill reads `{}` as an empty stack).
        const entries = parseMplsStack(s);
        e = entries.length === 0 ? { type: 'struct', fields: [], ...at } : { type: 'mpls_stack', entries, ...at };
      } else {
        e = { type: 'struct', fields: parseExprList(s, '}'), ...at };
      }
  }
  s.expectChar('}');
  return e;
}

/** `{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")` (no `}`). */
function parseSockaddr(s: TokenStream, at: Pos): ExprOf<'sockaddr'> {
  s.expectKw('sa_family');
  s.expectChar('=');
  const family = s.expectWord('an address family').text;
  s.expectChar(',');
  s.expectKw('sin_port');
  s.expectChar('=');
  s.expectKw('htons');
  s.expectChar('(');
  const port = s.expectRange('a port number', U16, 'port out of range');
  s.expectChar(')');
  s.expectChar(',');
  s.expectKw('sin_addr');
  s.expectChar('=');
  s.expectKw('inet_addr');
  s.expectChar('(');
  const address = s.expectType('string', 'an address string').value;
  s.expectChar(')');
  return { type: 'sockaddr', family, port, address, ...at };
}

/** `{msg_name(...)=..., msg_iov(N)=[...], msg_flags=E [, msg_control=[...]]` (no `}`). */
function parseMsghdr(s: TokenStream, at: Pos): ExprOf<'msghdr'> {
  s.expectKw('msg_name');
  s.expectChar('(');
  s.expectType('ellipsis', "'...'");
  s.expectChar(')');
  s.expectChar('=');
  s.expectType('ellipsis', "'...'");
  s.expectChar(',');
  s.expectKw('msg_iov');
  s.expectChar('(');
  const iovlen = s.expectInt('an iovec count');
  s.expectChar(')');
  s.expectChar('=');
  if (!s.atChar('[')) s.fail("'['");
  const iov = parseExpr(s);
  s.expectChar(',');
  const flags = field(s, 'msg_flags');
  let control: Expr | null = null;
  if (s.acceptChar(',')) {
    s.expectKw('msg_control');
    s.expectChar('=');
    if (!s.atChar('[')) s.fail("'['");
    control = parseExpr(s);
  }
  return { type: 'msghdr', iovlen, iov, flags, control, ...at };
}

/** mpls_stack: ( '(' label N ',' tc N ',' ['[' S ']' ','] ttl N ')' )* */
export function parseMplsStack(s: TokenStream): MplsEntry[] {
  const entries: MplsEntry[] = [];
  while (s.atChar('(')) {
    const open = s.next();
    s.expectKw('label');
    const label = s.expectInt('an MPLS label');
    s.expectChar(',');
    s.expectKw('tc');
    const tc = s.expectInt('an MPLS traffic class');
    s.expectChar(',');
    let bottom = false;
    if (s.acceptChar('[')) {
      const w = s.expectWord("'S'");
      if (w.text !== 'S') s.semantic(w, 'expected [S] for MPLS label stack bottom');
      s.expectChar(']');
      s.expectChar(',');
      bottom = true;
    }
    s.expectKw('ttl');
    const ttl = s.expectInt('an MPLS TTL');
    s.expectChar(')');
    if (label < 0 || label > 0xfffff) s.semantic(open, 'MPLS label out of range');
    if (tc < 0 || tc > 7) s.semantic(open, 'MPLS traffic class out of range');
    if (ttl < 0 || ttl > 255) s.semantic(open, 'MPLS TTL out of range');
    entries.push({ label, tc, bottom, ttl });
  }
  return entries;
}

const GRE_FLAG: Record<string, number> = { checksum: 0x8000, key: 0x2000, 'sequence#': 0x1000 };

/** gre_header_expression: `flags F [,] sum N [,] off N [,] key [=] N [,] seq N`. */
export function parseGreHeader(s: TokenStream): GreHeader {
  s.expectKw('flags');
  let flags = 0;
  if (s.acceptChar('[')) {
    do {
      const t = s.next();
      if (t.kw === 'none') continue;
      const bit = t.kw === null ? undefined : GRE_FLAG[t.kw];
      if (bit === undefined) s.fail("'none', 'checksum present', 'key present' or 'sequence# present'", t);
      s.expectKw('present');
      flags |= bit;
    } while (s.acceptChar(','));
    s.expectChar(']');
  } else {
    flags = s.expectAnyInt('GRE flags');
  }
  s.acceptChar(',');
  s.expectKw('sum');
  const sum = s.expectAnyInt('a GRE checksum');
  s.acceptChar(',');
  s.expectKw('off');
  const off = s.expectAnyInt('a GRE offset');
  s.acceptChar(',');
  s.expectKw('key');
  s.acceptChar('=');
  const key = s.expectAnyInt('a GRE key');
  s.acceptChar(',');
  s.expectKw('seq');
  const seq = s.expectAnyInt('a GRE sequence number');
  return { flags, sum, off, key, seq };
}
