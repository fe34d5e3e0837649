/** `memo` without preact/compat (which would add its whole React layer to the bundle): re-render only when a prop changed (shallow). */
import { Component, h, type FunctionComponent } from 'preact';

export function memo<P extends object>(fn: FunctionComponent<P>): FunctionComponent<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const cur = this.props as Record<string, unknown>;
      const nxt = next as Record<string, unknown>;
      for (const k in nxt) if (k !== 'children' && cur[k] !== nxt[k]) return true;
      for (const k in cur) if (!(k in nxt)) return true;
      return false;
    }
    override render() {
      return h(fn, this.props);
    }
  }
  return Memo as unknown as FunctionComponent<P>;
}
