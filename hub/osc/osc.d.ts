/** Minimal typings for the `osc` package (osc.js, CommonJS, untyped): just what hub/osc uses. */
declare module 'osc' {
  import type { EventEmitter } from 'node:events';
  export type OscArgument =
    | { type: 'i' | 'f' | 'd' | 'h' | 't'; value: number }
    | { type: 's' | 'S' | 'c'; value: string }
    | { type: 'T'; value: true }
    | { type: 'F'; value: false }
    | { type: 'N'; value: null }
    | { type: string; value: unknown };
  export interface OscMessage { address: string; args: OscArgument[] }
  export interface OscBundle { timeTag: unknown; packets: OscPacket[] }
  export type OscPacket = OscMessage | OscBundle;
  export interface PacketOptions { metadata?: boolean; unpackSingleArgs?: boolean }
  /** Decodes one OSC packet (message or bundle); throws on malformed data. */
  export function readPacket(data: Uint8Array, options?: PacketOptions): OscPacket;
  /** Encodes one OSC packet. */
  export function writePacket(packet: OscPacket, options?: PacketOptions): Uint8Array;
  /** SLIP framing (OSC 1.1 over streams): decodeSLIPData feeds bytes in, 'packet' events come out. */
  export class SLIPPort extends EventEmitter {
    constructor(options?: PacketOptions & { useSLIP?: boolean });
    decodeSLIPData(data: Uint8Array, packetInfo?: unknown): void;
    /** The packet, OSC-encoded and SLIP-framed. */
    encodeOSC(packet: OscPacket): Uint8Array;
  }
  const osc: { readPacket: typeof readPacket; writePacket: typeof writePacket; SLIPPort: typeof SLIPPort };
  export default osc;
}
