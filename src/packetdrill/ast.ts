/**
 * The typed AST of a packetdrill script, as produced by `parseScript` (parser.ts).
 *
 * It follows google/packetdrill's grammar (gtests/net/packetdrill/parser.y) node for node, but
 * keeps what the script SAYS rather than what packetdrill compiles it into: symbolic names stay
 * symbols (the interpreter resolves SOCK_STREAM, O_NONBLOCK, -D defines ...), addresses stay
 * strings, and every node carries its source position for runtime error messages.
 *
 * Units: all times are integer MICROSECONDS (`Duration`), converted exactly from the decimal text
 * ("0.035" is 35000, never 34999). Sequence numbers, ports, windows are plain numbers, range-checked
 * by the parser (u32 / u16 / u8) the way packetdrill's semantic checks do.
 */
import type { Duration } from '../time.js';

/** A 1-based source position (column counts UTF-16 code units; a tab is one column). */
export interface Pos {
  line: number;
  column: number;
}

/** A whole script: header options, an optional untimed init command, events, optional cleanup. */
export interface Script {
  /** The file name given to `parseScript` (used in error messages). */
  file: string;
  /** `--name=value` / `--name` lines before the first event, in order. */
  options: ScriptOption[];
  /** An untimed backtick command before the first event (packetdrill's init_command). */
  initCommand: CommandSpec | null;
  /** The timed events, in script order. */
  events: Event[];
  /** An untimed backtick command after the last event (packetdrill's cleanup_command). */
  cleanupCommand: CommandSpec | null;
}

/**
 * A header option. `value` is the text after `=` (quotes removed from strings), or null for a bare
 * flag like `--strict_segments`. `--define=NAME=VALUE` keeps `NAME=VALUE` as its value, like
 * packetdrill; a quoted right-hand side keeps its quotes (`CC="reno"`).
 */
export interface ScriptOption extends Pos {
  name: string;
  value: string | null;
}

/** A backtick shell command: the text between the backticks, verbatim (may span lines). */
export interface CommandSpec extends Pos {
  command: string;
}

// ---------------------------------------------------------------------------------------------
// Times

/**
 * When an event happens.
 * - absolute `0.100`: at 100 ms after the script start.
 * - relative `+0.1`: 100 ms after the previous event.
 * - any `*`: whenever it happens (outbound packets only).
 * - absoluteRange `0.1~0.2` / relativeRange `+0~+0.1`: anywhere in [usecs, endUsecs] (outbound
 *   packets only; a relative range's ends are both relative to the previous event).
 */
export type TimeSpec =
  | { kind: 'absolute'; usecs: Duration }
  | { kind: 'relative'; usecs: Duration }
  | { kind: 'any' }
  | { kind: 'absoluteRange'; usecs: Duration; endUsecs: Duration }
  | { kind: 'relativeRange'; usecs: Duration; endUsecs: Duration };

// ---------------------------------------------------------------------------------------------
// Events

/** Fields shared by every event: where it is (the time stamp's position) and when it happens. */
export interface EventBase extends Pos {
  time: TimeSpec;
}

export type Event = PacketEvent | SyscallEvent | CommandEvent | CodeEvent;

/** A timed backtick shell command (`+0 \`sysctl -q net.ipv4.tcp_timestamps=0\``). */
export interface CommandEvent extends EventBase {
  kind: 'command';
  command: string;
}

/**
 * A `%{ ... }%` code block (python in packetdrill). `text` is packetdrill's view: the code between
 * the delimiters with spaces and tabs stripped from both ends; `raw` is everything between them.
 */
export interface CodeEvent extends EventBase {
  kind: 'code';
  text: string;
  raw: string;
}

/**
 * A system call: `name(args) = result [ERRNO (text)] [(note)]`.
 * `end` is set for a blocking call written `+0...0.2 read(...)`: the call starts at `time` and
 * must return at `end`. `end` has the same base as the start: absolute for an absolute time,
 * relative to the PREVIOUS event for a relative time (`+0.1...0.3` returns 0.3 s after the
 * previous event), as packetdrill's run.c adjusts it.
 */
export interface SyscallEvent extends EventBase {
  kind: 'syscall';
  name: string;
  args: Expr[];
  /** End time of a blocking call in microseconds, or null for a non-blocking one. */
  end: Duration | null;
  result: Expr;
  /** `EINPROGRESS (Operation now in progress)`: the expected errno and its strerror text. */
  errno: { name: string; text: string } | null;
  /** A trailing parenthesised note, e.g. `(flags O_RDWR)`; informational only. */
  note: string | null;
}

// ---------------------------------------------------------------------------------------------
// Packets

export type Direction = 'inbound' | 'outbound';

/** IP ECN codepoint check: `[noecn]`, `[ect0]`, `[ect1]`, `[ect01]` (either ECT), `[ce]`. */
export type Ecn = 'noecn' | 'ect0' | 'ect1' | 'ect01' | 'ce';

/**
 * IP header details given as `[ect0]`, `(tos 0x2)`, `[flowlabel 0x1234]`, `[ttl 64]`, or
 * `[ce, flowlabel 0x1]`. Null fields were not written (not checked / defaulted).
 */
export interface IpInfo {
  ecn: Ecn | null;
  tos: number | null;
  flowLabel: number | null;
  ttl: number | null;
}

/** Fields shared by packet lines of every protocol. */
export interface PacketBase extends EventBase {
  kind: 'packet';
  /** `<` is injected into the stack under test, `>` is expected from it. */
  direction: Direction;
  /** Outer headers written before the packet proper, outermost first (usually empty). */
  encaps: Encap[];
  /** The innermost IP header's details (`< [ect0] . 1:1(0) ...`). */
  ip: IpInfo;
  /** `1234>80` port override written before the flags, or null (use the script's ports). */
  ports: { src: number; dst: number } | null;
}

export type PacketEvent = TcpPacket | UdpPacket | IcmpPacket;

/** A TCP segment: `< S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>`. */
export interface TcpPacket extends PacketBase {
  protocol: 'tcp';
  /**
   * The flags as written: any of `FSRP.EWAU` and the ACE digits `0-7` (`.` is ACK), e.g. `S.`,
   * `P.`, `FP.`, `SEW`; `-` is written for a segment with no flags and is stored as `''`.
   */
  flags: string;
  /** `seqStart:seqEnd(payloadLen)`; the parser checks seqEnd === seqStart + payloadLen. */
  seqStart: number;
  seqEnd: number;
  payloadLen: number;
  /** `ack N`, or null if not written. */
  ack: number | null;
  /** `win N`; null only on outbound packets (window not checked). Inbound packets must give it. */
  win: number | null;
  /** `urg N`, or null if not written (0). */
  urg: number | null;
  /** ECN codepoint of the IP header (same as `ip.ecn`, here for convenience). */
  ecn: Ecn | null;
  /**
   * TCP options: a list as written; `'any'` for `<...>` (outbound only: options not checked);
   * null when no option list was written (the segment carries no options).
   */
  options: TcpOptionNode[] | 'any' | null;
}

/** A UDP datagram: `< udp (1000)` or `> udp 1234>53 (20)`. */
export interface UdpPacket extends PacketBase {
  protocol: 'udp';
  payloadLen: number;
}

/** What an ICMP error quotes from the offending packet: `[1:1001(1000)]`, `[udp (100)]`. */
export type IcmpEchoed =
  | { protocol: 'tcp'; seqStart: number; seqEnd: number; payloadLen: number }
  | { protocol: 'udp'; payloadLen: number }
  | { protocol: 'raw'; payloadLen: number };

/** An ICMP message: `< icmp unreachable frag_needed mtu 1500 [1:1001(1000)]`. */
export interface IcmpPacket extends PacketBase {
  protocol: 'icmp';
  /** Type and code names as written (`unreachable`, `frag_needed`, `type_3`, `code_4`...). */
  icmpType: string;
  icmpCode: string | null;
  mtu: number | null;
  /** `id N` for echo messages, or null. */
  echoId: number | null;
  /** The quoted packet; null means packetdrill's default (a TCP segment at the current seq). */
  echoed: IcmpEchoed | null;
}

/** One MPLS label stack entry: `(label 123, tc 1, [S], ttl 255)`. */
export interface MplsEntry {
  label: number;
  tc: number;
  /** `[S]`: bottom of stack. */
  bottom: boolean;
  ttl: number;
}

/** GRE header fields; every field may be omitted (`gre:`), else all five are written. */
export interface GreHeader {
  /** `flags 0xb000` or `flags [checksum present, key present, sequence# present]` (as a mask). */
  flags: number | null;
  sum: number | null;
  off: number | null;
  key: number | null;
  seq: number | null;
}

/**
 * An outer header written before the packet: `ipv4 2.2.2.2 > 1.1.1.1:`, `ipv6 ... :`, `gre ...:`,
 * `mpls (...) (...):`, tunnel-mode `psp spi 12:` and transport-mode `encap psp spi 23 ...`.
 */
export type Encap =
  | { kind: 'ipv4' | 'ipv6'; src: string; dst: string; ip: IpInfo }
  | { kind: 'gre'; header: GreHeader }
  | { kind: 'mpls'; entries: MplsEntry[] }
  | { kind: 'psp'; spi: number; vc: bigint | null; transport: boolean };

// ---------------------------------------------------------------------------------------------
// TCP options

/**
 * One TCP option in `<...>`, as written:
 * `nop`, `eol`, `mss 1460` (or a symbol: `mss MSS`), `wscale 7` (`wscale *` = any), `sackOK`,
 * `sack 1:1001 2001:3001`, `TS val 100 ecr 0`, `md5 <hex>`, `FO <cookie>`, `FOEXP <cookie>`.
 */
export type TcpOptionNode =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; value: number | string }
  | { kind: 'wscale'; shift: number | 'any' }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: { left: number; right: number }[] }
  | { kind: 'timestamp'; val: number; ecr: number }
  | { kind: 'md5'; digest: string }
  /**
   * TCP Fast Open (RFC 7413 option 34, or the experimental option 254 with magic 0xF989 when
   * `exp`). `cookie` is a hex string ('' for a cookie request `FO` with no cookie) or, when the
   * script names a -D define (`FO TFO_COOKIE`), `{ symbol }` to be resolved by the interpreter.
   */
  | { kind: 'fastopen'; exp: boolean; cookie: string | { symbol: string } };

// ---------------------------------------------------------------------------------------------
// Expressions (system call arguments and results)

/**
 * A system call argument or result. Every node has its source position.
 * - int: `3`, `-1`, `0x2` (`hex` keeps the literal's base for printing).
 * - symbol: `SOCK_STREAM`, `O_NONBLOCK`, `TCP_NODELAY`: resolved by the interpreter.
 * - string: `"GET / HTTP/1.1"`; `ellipsis: true` for `"abc"...` (prefix match).
 * - ellipsis: `...` (any value / not checked / a buffer the runner provides).
 * - binary: `O_RDWR|O_NONBLOCK` (op `|`), left-associative.
 * - assign: `name=value` inside `{...}` (a labelled struct field: `l_onoff=1`, `tcpi_state=...`).
 * - array: `[1]`, `[{fd=4, events=POLLIN}]`, `[]`.
 * - struct: `{...}` holding a plain expression list (usually assigns): `{l_onoff=1, l_linger=0}`.
 * - inet_addr / inet6_addr: `inet_addr("192.0.2.1")` (the address text).
 * - htons: `htons(8080)` (an extension: packetdrill only allows it inside a sockaddr).
 * - sockaddr: `{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}`.
 * - msghdr: `{msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0 [, msg_control=[...]]}`.
 * - iovec: `{..., 1000}` (base is always `...`).
 * - pollfd: `{fd=4, events=POLLIN [, revents=POLLIN]}`.
 * - epollev: `{events=EPOLLIN, fd=4}` (or `ptr=`, `u32=`, `u64=`).
 * - linger: `{onoff=1, linger=0}`.
 * - cmsg: `{cmsg_level=..., cmsg_type=..., cmsg_data=...}`.
 * - scm_timestamping: `{scm_sec=0, scm_nsec=0}`.
 * - sock_extended_err: `{ee_errno=..., ee_origin=..., ee_type=..., ee_code=..., ee_info=...,
 *   ee_data=...}`.
 * - mpls_stack: `{(label 1, tc 0, [S], ttl 64)}`; gre: `{gre flags 0x2000, sum 0, ...}`.
 */
export type Expr =
  | ({ type: 'int'; value: number; hex: boolean } & Pos)
  | ({ type: 'symbol'; name: string } & Pos)
  | ({ type: 'string'; value: string; ellipsis: boolean } & Pos)
  | ({ type: 'ellipsis' } & Pos)
  | ({ type: 'binary'; op: '|'; lhs: Expr; rhs: Expr } & Pos)
  | ({ type: 'assign'; name: string; value: Expr } & Pos)
  | ({ type: 'array'; elements: Expr[] } & Pos)
  | ({ type: 'struct'; fields: Expr[] } & Pos)
  | ({ type: 'inet_addr'; address: string } & Pos)
  | ({ type: 'inet6_addr'; address: string } & Pos)
  | ({ type: 'htons'; value: number } & Pos)
  | ({ type: 'sockaddr'; family: string; port: number; address: string } & Pos)
  | ({ type: 'msghdr'; iovlen: number; iov: Expr; flags: Expr; control: Expr | null } & Pos)
  | ({ type: 'iovec'; len: number } & Pos)
  | ({ type: 'pollfd'; fd: Expr; events: Expr; revents: Expr | null } & Pos)
  | ({ type: 'epollev'; events: Expr; field: 'fd' | 'ptr' | 'u32' | 'u64'; value: Expr } & Pos)
  | ({ type: 'linger'; onoff: number; linger: number } & Pos)
  | ({ type: 'cmsg'; level: Expr; cmsgType: Expr; data: Expr } & Pos)
  | ({ type: 'scm_timestamping'; sec: number; nsec: number } & Pos)
  | ({ type: 'sock_extended_err'; errno: Expr; origin: Expr; eeType: Expr; code: Expr;
      info: Expr; data: Expr } & Pos)
  | ({ type: 'mpls_stack'; entries: MplsEntry[] } & Pos)
  | ({ type: 'gre'; header: GreHeader } & Pos);

/** The Expr variant with the given `type` tag. */
export type ExprOf<T extends Expr['type']> = Extract<Expr, { type: T }>;
