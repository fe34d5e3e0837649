/**
 * The topic trie: every subscription (clients' and in-process) lives here, and one
 * PUBLISH is one walk of it (design.md). Wildcards at the first level never match
 * `$` topics [MQTT-4.7.2-1]. Shared subscriptions ($share/{group}/{filter}) are
 * kept per node as groups; a match yields the group and the engine picks one member.
 *
 * The walk calls a sink object (no closure per message): the engine aggregates hits
 * per session so overlapping subscriptions become one copy [MQTT-3.3.5-1].
 */
import type { QoS } from './types.js';
import type { EngineMessage } from './types.js';
import type { Session } from './session.js';

export interface ClientSub {
  readonly kind: 'client';
  readonly session: Session;
  /** the filter as subscribed (with a $share/{group}/ prefix if shared): the session's key */
  readonly key: string;
  readonly filter: string;
  readonly group: string | undefined;
  qos: QoS;
  /** v5 No Local [MQTT-3.8.3-3] */
  nl: boolean;
  /** v5 Retain As Published [MQTT-3.3.1-12] */
  rap: boolean;
  /** v5 Retain Handling 0/1/2 */
  rh: number;
  /** v5 Subscription Identifier, 0 = none */
  id: number;
}

export interface LocalSub {
  readonly kind: 'local';
  readonly filter: string;
  readonly group: string | undefined;
  readonly handler: (m: EngineMessage) => void;
}

export type Sub = ClientSub | LocalSub;

export class SharedGroup {
  readonly members: Sub[] = [];
  private next = 0;
  constructor(readonly name: string) {}

  /** Round robin among members, skipping offline sessions while an online member exists. */
  pick(): Sub | undefined {
    const n = this.members.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const m = this.members[i]!;
      if (m.kind === 'local' || m.session.conn !== null) { this.next = i + 1; return m; }
    }
    if (n === 0) return undefined;
    const m = this.members[this.next % n];
    this.next++;
    return m;
  }
}

export interface MatchSink {
  hit(sub: Sub): void;
  shared(group: SharedGroup): void;
}

class Node {
  children: Map<string, Node> | null = null;
  subs: Sub[] | null = null;
  groups: Map<string, SharedGroup> | null = null;

  empty(): boolean {
    return (this.children === null || this.children.size === 0) && (this.subs === null || this.subs.length === 0) && (this.groups === null || this.groups.size === 0);
  }
}

/** Topics whose split levels are remembered (a bounded cache: cleared whole when full). */
const LEVELS_CACHE_TOPICS = 4096;

export class Router {
  private readonly root = new Node();
  private count = 0;
  /**
   * Topic → its levels: devices publish to the same topics again and again, and
   * splitting (an array and a string per level, each hashed afresh by the walk's
   * map lookups) cost more than the walk itself. Bounded by LEVELS_CACHE_TOPICS.
   */
  private readonly levelsOf = new Map<string, string[]>();

  get size(): number { return this.count; }

  add(sub: Sub): void {
    let node = this.root;
    for (const level of sub.filter.split('/')) {
      node.children ??= new Map();
      let child = node.children.get(level);
      if (!child) { child = new Node(); node.children.set(level, child); }
      node = child;
    }
    if (sub.group === undefined) (node.subs ??= []).push(sub);
    else {
      node.groups ??= new Map();
      let g = node.groups.get(sub.group);
      if (!g) { g = new SharedGroup(sub.group); node.groups.set(sub.group, g); }
      g.members.push(sub);
    }
    this.count++;
  }

  /** Removes this exact subscription object; prunes empty nodes. */
  remove(sub: Sub): boolean {
    const path: [Node, string][] = [];
    let node = this.root;
    for (const level of sub.filter.split('/')) {
      const child = node.children?.get(level);
      if (!child) return false;
      path.push([node, level]);
      node = child;
    }
    let list: Sub[] | undefined;
    if (sub.group === undefined) list = node.subs ?? undefined;
    else list = node.groups?.get(sub.group)?.members;
    const i = list ? list.indexOf(sub) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (sub.group !== undefined && list.length === 0) node.groups!.delete(sub.group);
    this.count--;
    for (let k = path.length - 1; k >= 0; k--) {
      const [parent, level] = path[k]!;
      if (!parent.children!.get(level)!.empty()) break;
      parent.children!.delete(level);
    }
    return true;
  }

  /** One walk per PUBLISH: calls sink for every matching subscription and shared group. */
  match(topic: string, sink: MatchSink): void {
    let levels = this.levelsOf.get(topic);
    if (levels === undefined) {
      levels = topic.split('/');
      if (this.levelsOf.size >= LEVELS_CACHE_TOPICS) this.levelsOf.clear();
      this.levelsOf.set(topic, levels);
    }
    walk(this.root, levels, 0, topic.charCodeAt(0) === 0x24, sink);
  }
}

function emit(node: Node, sink: MatchSink): void {
  if (node.subs !== null) for (let i = 0; i < node.subs.length; i++) sink.hit(node.subs[i]!);
  if (node.groups !== null) for (const g of node.groups.values()) sink.shared(g);
}

function walk(node: Node, levels: string[], i: number, dollar: boolean, sink: MatchSink): void {
  const children = node.children;
  if (i === levels.length) {
    emit(node, sink);
    // "sport/#" also matches "sport" [MQTT-4.7.1-2]
    const hash = children?.get('#');
    if (hash) emit(hash, sink);
    return;
  }
  if (children === null) return;
  if (!(i === 0 && dollar)) { // [MQTT-4.7.2-1]
    const hash = children.get('#');
    if (hash) emit(hash, sink);
    const plus = children.get('+');
    if (plus) walk(plus, levels, i + 1, dollar, sink);
  }
  const exact = children.get(levels[i]!);
  if (exact) walk(exact, levels, i + 1, dollar, sink);
}
