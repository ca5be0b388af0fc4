// The GDB stub's socket: one client on 127.0.0.1, packets framed by packet.ts and answered by
// handlers.ts, acknowledgements until gdb asks for no-ack mode, a `-` resends the last reply.
// The session (and the returned promise) ends when gdb kills, detaches or disconnects.

import { createServer, type Socket } from 'node:net';
import type { DebugTarget } from '../target.js';
import { dispatch, type StubSession } from './handlers.js';
import { PacketReader, encodePacket, toHex } from './packet.js';

export interface GdbServerOptions {
  /** 0: any free port (see onListening). */
  readonly port: number;
  readonly host?: string;
  /** Called once the server listens, with its port. */
  readonly onListening?: (port: number) => void;
  /** Diagnostics (a handler that failed on a bug, the client's coming and going). */
  readonly log?: (line: string) => void;
  /** Log every packet in and out. */
  readonly verbose?: boolean;
}

export function serveGdb(target: DebugTarget, options: GdbServerOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.maxConnections = 1;
    server.on('error', reject);
    server.on('connection', (sock) => {
      server.close();
      log(`gdb connected from ${sock.remoteAddress}:${sock.remotePort}`);
      session(sock, target, log, options.verbose ?? false, () => {
        log('gdb disconnected');
        resolve();
      });
    });
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      const addr = server.address();
      options.onListening?.(typeof addr === 'object' && addr ? addr.port : options.port);
    });
  });
}

function session(sock: Socket, target: DebugTarget, log: (l: string) => void, verbose: boolean, done: () => void): void {
  const reader = new PacketReader();
  let last = '';
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    sock.end();
    done();
  };
  const send = (raw: string) => {
    if (verbose) log(`<- ${raw}`);
    sock.write(Buffer.from(raw, 'latin1'));
  };
  const s: StubSession = {
    target,
    noAck: false,
    console: (text) => send(encodePacket(`O${toHex(Buffer.from(text, 'utf8'))}`)),
  };
  sock.on('data', (chunk: Buffer) => {
    for (const frame of reader.feed(chunk.toString('latin1'))) {
      if (ended) return;
      switch (frame.kind) {
        case 'ack':
        case 'interrupt': // every resume is synchronous: by the time ^C is read the target has stopped
          break;
        case 'nack':
          if (last) send(last);
          break;
        case 'bad':
          log(`bad packet: ${frame.reason}`);
          if (!s.noAck) send('-');
          break;
        case 'packet': {
          if (verbose) log(`-> ${frame.payload}`);
          if (!s.noAck) send('+');
          let reply;
          try {
            reply = dispatch(frame.payload, s);
          } catch (e) {
            log(`internal error on '${frame.payload.slice(0, 40)}': ${(e as Error).stack ?? e}`);
            reply = { payload: 'E01' };
          }
          if (reply.payload !== null) {
            last = encodePacket(reply.payload);
            send(last);
          }
          if (reply.close) end();
        }
      }
    }
  });
  sock.on('close', end);
  sock.on('error', (e) => {
    log(`socket error: ${e.message}`);
    end();
  });
}
