/** A raw IRC client (a plain socket, no Veil): what tests and the bench use to talk to ngircd. */
import net from 'node:net';

/** Connects to the IRC server on 127.0.0.1:`port`; hands each line to `onLine` and answers PINGs. */
export function ircConnect(port: number, onLine: (line: string) => void): net.Socket {
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line.startsWith('PING')) sock.write(`PONG${line.slice(4)}\r\n`);
      onLine(line);
    }
  });
  return sock;
}
