/**
 * TCP → MQTT-over-WebSocket relay, so a suite with only a TCP client can test a
 * broker's WebSocket door: each accepted TCP connection gets its own WebSocket
 * (subprotocol `mqtt`, binary frames [MQTT-6.0.0-1]); bytes go both ways
 * unchanged. A close on either side closes the other: the broker's close (a
 * refused CONNECT, a keep-alive timeout) reaches the suite as a TCP close, and
 * the suite dropping its socket without DISCONNECT reaches the broker as a
 * WebSocket close (its will is then due, as on TCP).
 */
import net from 'node:net';
import { WebSocket } from 'ws';

export interface Relay {
  readonly port: number;
  close(): Promise<void>;
}

export function startRelay(url: string): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((tcp) => {
    sockets.add(tcp);
    tcp.setNoDelay(true);
    const ws = new WebSocket(url, 'mqtt', { perMessageDeflate: false });
    const early: Buffer[] = []; // bytes the suite sends before the WebSocket is open
    const end = () => {
      sockets.delete(tcp);
      tcp.destroy();
      if (ws.readyState === WebSocket.OPEN) ws.close();
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    };
    // The broker closed: end the TCP side gracefully (FIN after what the broker sent, e.g. its DISCONNECT), as a
    // TCP broker's close looks. Destroying it at once would answer bytes still in flight from the suite with an
    // RST, and the suite would see a broken pipe instead of the DISCONNECT (test_flow_control2).
    const brokerClosed = () => {
      if (tcp.destroyed) return;
      tcp.end();
      setTimeout(end, 5000).unref();
    };
    tcp.on('data', (d) => (ws.readyState === WebSocket.OPEN ? ws.send(d) : ws.readyState === WebSocket.CONNECTING ? early.push(d) : undefined));
    ws.on('open', () => {
      for (const d of early.splice(0)) ws.send(d);
    });
    ws.on('message', (d: Buffer) => tcp.write(d));
    ws.on('close', brokerClosed);
    ws.on('error', brokerClosed);
    tcp.on('close', end);
    tcp.on('error', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    ),
  );
}
