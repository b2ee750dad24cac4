/**
 * The packetdrill script parser: `parseScript(text, file)` → `Script` (ast.ts).
 *
 * A hand-written recursive-descent parser over the token stream of lexer.ts that accepts the
 * language of google/packetdrill's parser.y (script = options, optional init command, events,
 * optional cleanup command). This file holds the script, time and system call rules; packet lines
 * are in packet.ts and expressions in expr.ts. Errors are PacketdrillSyntaxError with
 * `file:line:col: message` pointing at the offending token.
 */
import type {
  CommandSpec, Event, EventBase, Script, ScriptOption, SyscallEvent, TimeSpec,
} from './ast.js';
import { parseExpr, parseExprList } from './expr.js';
import { tokenize, type Token } from './lexer.js';
import { parsePacket } from './packet.js';
import { TokenStream } from './stream.js';

export { PacketdrillSyntaxError } from './lexer.js';
export type * from './ast.js';

/** Parses a whole script. Throws PacketdrillSyntaxError on the first error. */
export function parseScript(text: string, file = '<script>'): Script {
  const s = new TokenStream(tokenize(text, file), file);
  const options: ScriptOption[] = [];
  while (s.peek().type === 'option') options.push(parseOption(s));

  let initCommand: CommandSpec | null = null;
  if (s.peek().type === 'backquoted') initCommand = commandSpec(s.next());

  const events: Event[] = [];
  let cleanupCommand: CommandSpec | null = null;
  do {
    if (s.peek().type === 'backquoted' && s.peek(1).type === 'eof' && events.length > 0) {
      cleanupCommand = commandSpec(s.next());
      break;
    }
    events.push(parseEvent(s));
  } while (!s.atEof());
  return { file, options, initCommand, events, cleanupCommand };
}

function commandSpec(t: Token): CommandSpec {
  return { command: t.value, line: t.line, column: t.column };
}

/**
 * option: OPTION ['=' option_value], where option_value is INTEGER, WORD, STRING, an IPv4/IPv6
 * address, `ipv4`/`ipv6`, or `WORD=WORD` / `WORD="str"` / WORD=`cmd` (for --define).
 */
function parseOption(s: TokenStream): ScriptOption {
  const t = s.next();
  const opt: ScriptOption = { name: t.value, value: null, line: t.line, column: t.column };
  if (!s.acceptChar('=')) return opt;
  const v = s.peek();
  if (v.type === 'int' || v.type === 'string' || v.type === 'ipv4' || v.type === 'ipv6' ||
      v.kw === 'ipv4' || v.kw === 'ipv6') {
    s.next();
    opt.value = v.value;
  } else if (s.isWord()) {
    s.next();
    opt.value = v.text;
    if (s.acceptChar('=')) {
      const r = s.peek();
      if (s.isWord()) opt.value += `=${r.text}`;
      else if (r.type === 'string') opt.value += `="${r.value}"`;
      else if (r.type === 'backquoted') opt.value += `=\`${r.value}\``;
      else s.fail('a word, string or command after \'=\'');
      s.next();
    }
  } else {
    s.fail(`a value for option --${opt.name}`);
  }
  return opt;
}

/** time: FLOAT | INTEGER seconds, converted exactly to microseconds. */
function parseTime(s: TokenStream): number {
  const t = s.peek();
  if (t.type !== 'int' && t.type !== 'float') s.fail('a time in seconds');
  s.next();
  if (t.text.startsWith('-')) s.semantic(t, 'negative time');
  const [whole = '', frac = ''] = t.text.split('.');
  const usecs = (whole === '' ? 0 : Number(whole)) * 1_000_000 + Number(`${frac}000000`.slice(0, 6));
  if (!Number.isSafeInteger(usecs)) s.semantic(t, 'time out of range');
  return usecs;
}

/** event_time: '+' time | time | '*' | time '~' time | '+' time '~' '+' time */
function parseEventTime(s: TokenStream): TimeSpec {
  if (s.acceptChar('*')) return { kind: 'any' };
  if (s.acceptChar('+')) {
    const usecs = parseTime(s);
    if (!s.acceptChar('~')) return { kind: 'relative', usecs };
    s.expectChar('+');
    return { kind: 'relativeRange', usecs, endUsecs: parseTime(s) };
  }
  const t = s.peek();
  if (t.type !== 'int' && t.type !== 'float') s.fail('an event time (like 0, +0.1 or *)');
  const usecs = parseTime(s);
  if (!s.acceptChar('~')) return { kind: 'absolute', usecs };
  return { kind: 'absoluteRange', usecs, endUsecs: parseTime(s) };
}

/** event: event_time action */
function parseEvent(s: TokenStream): Event {
  const timeTok = s.peek();
  const time = parseEventTime(s);
  const base: EventBase = { line: timeTok.line, column: timeTok.column, time };
  if ((time.kind === 'absoluteRange' || time.kind === 'relativeRange') && time.endUsecs < time.usecs) {
    s.semantic(timeTok, 'time range is backwards');
  }
  const t = s.peek();
  let event: Event;
  if (t.type === 'char' && (t.text === '<' || t.text === '>')) {
    event = parsePacket(s, base);
  } else if (t.type === 'backquoted') {
    s.next();
    event = { ...base, kind: 'command', command: t.value };
  } else if (t.type === 'code') {
    s.next();
    event = { ...base, kind: 'code', text: t.value.replace(/^[ \t]+|[ \t]+$/g, ''), raw: t.value };
  } else if (t.type === 'ellipsis' || s.isWord()) {
    event = parseSyscall(s, base);
  } else {
    return s.fail('a packet, system call, `command` or %{ code }%');
  }
  const outboundPacket = event.kind === 'packet' && event.direction === 'outbound';
  if (time.kind === 'any' && !outboundPacket) {
    s.semantic(timeTok, 'event time <star> can only be used with outbound packets');
  }
  if ((time.kind === 'absoluteRange' || time.kind === 'relativeRange') && !outboundPacket) {
    s.semantic(timeTok, 'event time range can only be used with outbound packets');
  }
  return event;
}

/** syscall_spec: ['...' time] WORD '(' [expression_list] ')' '=' expression [WORD note] [note] */
function parseSyscall(s: TokenStream, base: EventBase): SyscallEvent {
  let end: number | null = null;
  if (s.peek().type === 'ellipsis') {
    s.next();
    end = parseTime(s);
  }
  const name = s.expectWord('a system call name').text;
  s.expectChar('(');
  const args = parseExprList(s, ')');
  s.expectChar(')');
  s.expectChar('=');
  const result = parseExpr(s);
  let errno: SyscallEvent['errno'] = null;
  if (s.isWord()) {
    const errName = s.next().text;
    if (!s.atChar('(')) s.fail(`'(' and the text of ${errName}`);
    errno = { name: errName, text: parseNote(s) };
  }
  const note = s.atChar('(') ? parseNote(s) : null;
  return { ...base, kind: 'syscall', name, args, end, result, errno, note };
}

/** note: '(' word_list ')', word_list: (WORD | flags) WORD* — joined with single spaces. */
function parseNote(s: TokenStream): string {
  s.expectChar('(');
  const words: string[] = [];
  if (s.atKw('flags')) words.push(s.next().text);
  else words.push(s.expectWord('words').text);
  while (s.isWord()) words.push(s.next().text);
  s.expectChar(')');
  return words.join(' ');
}
