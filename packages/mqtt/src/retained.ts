/**
 * Retained messages: a topic tree so that a SUBSCRIBE finds its retained messages
 * by walking the filter, not by scanning every topic. Bounded in topics and bytes
 * (limits maxRetainedTopics / maxRetainedBytes); a publish over either is refused
 * with 0x97 by the caller. Expired messages (v5 Message Expiry) are dropped on lookup.
 */
import type { Msg } from './message.js';

class RNode {
  children: Map<string, RNode> | null = null;
  msg: Msg | null = null;
}

export class Retained {
  private readonly root = new RNode();
  private topics = 0;
  private bytes = 0;

  constructor(private readonly maxTopics: number, private readonly maxBytes: number) {}

  get size(): number { return this.topics; }
  get totalBytes(): number { return this.bytes; }

  /** Stores or replaces; an empty payload clears [MQTT-3.3.1-10/11]. false if over a limit (nothing changed). */
  set(m: Msg): boolean {
    if (m.payload.length === 0) { this.delete(m.topic); return true; }
    let node = this.root;
    const levels = m.topic.split('/');
    const old = this.find(levels);
    const oldSize = old?.msg ? size(old.msg) : 0;
    if (!old?.msg && this.topics >= this.maxTopics) return false;
    if (this.bytes - oldSize + size(m) > this.maxBytes) return false;
    for (const level of levels) {
      node.children ??= new Map();
      let c = node.children.get(level);
      if (!c) { c = new RNode(); node.children.set(level, c); }
      node = c;
    }
    if (node.msg) { this.bytes -= oldSize; } else this.topics++;
    node.msg = m;
    this.bytes += size(m);
    return true;
  }

  delete(topic: string): void {
    const path: [RNode, string][] = [];
    let node = this.root;
    for (const level of topic.split('/')) {
      const c = node.children?.get(level);
      if (!c) return;
      path.push([node, level]);
      node = c;
    }
    if (!node.msg) return;
    this.bytes -= size(node.msg);
    this.topics--;
    node.msg = null;
    for (let k = path.length - 1; k >= 0; k--) {
      const [parent, level] = path[k]!;
      const c = parent.children!.get(level)!;
      if (c.msg || (c.children && c.children.size > 0)) break;
      parent.children!.delete(level);
    }
  }

  get(topic: string): Msg | undefined {
    return this.find(topic.split('/'))?.msg ?? undefined;
  }

  /** Retained messages matching `filter` ($ topics not matched by leading wildcards [MQTT-4.7.2-1]). */
  match(filter: string, now: number): Msg[] {
    const out: Msg[] = [];
    this.walk(this.root, filter.split('/'), 0, now, out);
    return out;
  }

  all(): Msg[] { return this.match('#', 0).concat(this.match('$#', 0)); }

  private find(levels: string[]): RNode | undefined {
    let node: RNode | undefined = this.root;
    for (const l of levels) { node = node.children?.get(l); if (!node) return undefined; }
    return node;
  }

  private walk(node: RNode, f: string[], i: number, now: number, out: Msg[]): void {
    if (i === f.length) { this.take(node, now, out); return; }
    const p = f[i]!;
    if (p === '#') this.take(node, now, out); // "a/#" matches "a"
    if (!node.children) return;
    if (p === '#') {
      for (const [k, c] of node.children) if (!(i === 0 && k.startsWith('$'))) this.all_(c, now, out);
      return;
    }
    if (p === '+') {
      for (const [k, c] of node.children) if (!(i === 0 && k.startsWith('$'))) this.walk(c, f, i + 1, now, out);
      return;
    }
    if (p === '$#' && i === 0) { // internal: every $ topic (all())
      for (const [k, c] of node.children) if (k.startsWith('$')) this.all_(c, now, out);
      return;
    }
    const c = node.children.get(p);
    if (c) this.walk(c, f, i + 1, now, out);
  }

  private all_(node: RNode, now: number, out: Msg[]): void {
    this.take(node, now, out);
    if (node.children) for (const c of node.children.values()) this.all_(c, now, out);
  }

  private take(node: RNode, now: number, out: Msg[]): void {
    const m = node.msg;
    if (!m) return;
    if (now !== 0 && m.expiresAt !== 0 && m.expiresAt <= now) { this.delete(m.topic); return; }
    out.push(m);
  }
}

const size = (m: Msg): number => m.payload.length + m.topic.length;
