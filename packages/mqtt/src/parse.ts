/**
 * One mqtt-packet parser for every connection. The framer hands over whole
 * packets, so the parser is between packets after each call and holds no state
 * of a connection but its settings (protocol version and bridge mode, which
 * decide how later packets read): those are kept per connection and put back
 * before each parse. A parser per connection cost ~1.5 KB (an EventEmitter, a
 * BufferList, a Packet) of every idle connection's memory.
 *
 * Packets are emitted synchronously from `parse`; a parse re-entered from a
 * handler (not expected: reads are asynchronous) gets a parser of its own.
 */
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface ParseSink {
  /** mqtt-packet's settings for this connection; replaced (by the CONNECT) as the parser reads it */
  parserSettings: ParserSettings;
  onPacket(p: Packet): void;
  onParseError(e: Error): void;
}

export interface ParserSettings { protocolVersion?: number; bridgeMode?: boolean }

/** mqtt-packet's Parser with the settings object it reads (public in its source, absent from its types). */
type Parser = ReturnType<typeof mqttPacket.parser> & { settings: ParserSettings };

let current: ParseSink | null = null;

function make(sink: () => ParseSink): Parser {
  const p = mqttPacket.parser() as Parser;
  p.on('packet', (x: Packet) => sink().onPacket(x));
  p.on('error', (e: Error) => sink().onParseError(e));
  return p;
}

let shared = make(() => current!);

/** Parses one whole packet (the framer's) for `sink`. */
export function parseWhole(sink: ParseSink, buf: Buffer): void {
  const nested = current !== null;
  const parser = nested ? make(() => sink) : shared;
  const settings = sink.parserSettings;
  parser.settings = settings;
  if (!nested) current = sink;
  let left: number;
  try {
    left = parser.parse(buf);
  } finally {
    if (!nested) current = null;
  }
  // CONNECT replaced the settings with the packet itself: keep only what later packets need
  if (parser.settings !== settings) sink.parserSettings = { protocolVersion: parser.settings.protocolVersion, bridgeMode: parser.settings.bridgeMode };
  // bytes left over (after an error): the next connection gets a clean parser
  if (left !== 0 && !nested) shared = make(() => current!);
}
