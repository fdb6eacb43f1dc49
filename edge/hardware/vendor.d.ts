/** Minimal typings for the untyped CommonJS hardware libraries, just what the backend uses. */
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';
  interface BoardOptions { io?: unknown; port?: unknown; repl?: boolean; debug?: boolean; timeout?: number; id?: string; sigint?: boolean }
  class Board extends EventEmitter {
    constructor(opts: BoardOptions);
    /** Every board johnny-five made (the live array). */
    static readonly cache: Board[];
    readonly io: any;
    readonly isReady: boolean;
    readonly id: string;
  }
  const five: { Board: typeof Board };
  export default five;
}
declare module 'firmata-io' {
  const bindTransport: ((transport: unknown) => any) & { Firmata: any };
  export default bindTransport;
}
declare module 'mock-firmata' {
  const mock: { Firmata: any; Pins: any; SerialPort: any };
  export default mock;
}
