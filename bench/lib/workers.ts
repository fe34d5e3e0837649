/**
 * The parent's side of the generator processes (bench/gen/worker.ts): fork with
 * the same TypeScript loader, request/reply over IPC, PID for /proc sampling.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerRequest } from '../gen/worker.js';
import { stopPid } from './proc.js';

const WORKER = fileURLToPath(new URL('../gen/worker.ts', import.meta.url));

export class Worker {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(readonly name: string, private readonly child: ChildProcess) {
    child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(`${name}: ${m.error}`));
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (${code})`));
      this.waiting.clear();
    });
  }

  static start(name: string): Promise<Worker> {
    const child = fork(WORKER, [], { execArgv: ['--conditions=source', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve(new Worker(name, child)));
      child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T = unknown>(req: WorkerRequest): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, req });
    });
  }

  stop(): Promise<void> {
    this.child.disconnect();
    return stopPid(this.child, 3_000);
  }
}
