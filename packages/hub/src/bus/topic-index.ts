/**
 * Values stored by MQTT topic filter, looked up by topic: a trie (qlobber, the
 * matcher under Aedes' router), so a message costs O(topic levels), not one test
 * per filter. Same matching as `topicMatches` in @fieldlink/protocol (a test
 * compares them); `$` topics are the caller's concern ([MQTT-4.7.2-1]).
 */
import { createRequire } from 'node:module';

export interface TopicIndex<V> {
  add(filter: string, value: V): this;
  remove(filter: string, value: V): this;
  match(topic: string): V[];
}

interface QlobberOptions {
  separator: string;
  wildcard_one: string;
  wildcard_some: string;
  match_empty_levels: boolean;
}

// qlobber 8 ships no type declarations: the part used here, typed once.
const { Qlobber } = createRequire(import.meta.url)('qlobber') as { Qlobber: new <V>(o: QlobberOptions) => TopicIndex<V> };

export function createTopicIndex<V>(): TopicIndex<V> {
  // match_empty_levels: `+` matches an empty level (`a/+` matches `a/`), as in MQTT.
  return new Qlobber<V>({ separator: '/', wildcard_one: '+', wildcard_some: '#', match_empty_levels: true });
}
