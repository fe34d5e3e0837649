import type net from 'node:net';

/** Bind both servers on free loopback ports and print the ready line the bench runner waits for. */
export async function announce(tcp: net.Server, ws: net.Server): Promise<void> {
  const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
  const mqttPort = await listen(tcp);
  const wsPort = await listen(ws);
  console.log(JSON.stringify({ ready: true, mqttPort, wsPort }));
}
