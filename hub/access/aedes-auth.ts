/**
 * The embedded broker's authentication and authorization hooks: user names and passwords from the
 * credentials store, and every publish, subscribe and delivery checked against the rules derived
 * from the channel table (protocol/access.ts) — the same rules Mosquitto's acl_file is written from.
 */
import type { Client, AuthenticateError, PublishPacket, Subscription } from 'aedes';
import { AccessPolicy, type Principal } from '../../protocol/access.ts';
import type { AccessStore } from './store.ts';

/** Who published the last console command on each topic (the hub's audit reads it; MQTT 3.1.1 carries no publisher). */
export type PublisherLookup = (topic: string) => Principal | undefined;

export interface AedesAuthHooks {
  authenticate(client: Client, username: Readonly<string> | undefined, password: Readonly<Buffer> | undefined, done: (error: AuthenticateError | null, success: boolean | null) => void): void;
  authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void;
  authorizeSubscribe(client: Client | null, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void;
  authorizeForward(client: Client, packet: PublishPacket): PublishPacket | null | void;
  lastPublisher: PublisherLookup;
  /** Refused attempts, by kind (metrics and tests read them). */
  refused: { auth: number; publish: number; subscribe: number };
}

const policies = new WeakMap<Client, AccessPolicy>();

export function aedesAuthHooks(store: AccessStore, onRefused?: (what: string) => void): AedesAuthHooks {
  const refused = { auth: 0, publish: 0, subscribe: 0 };
  const lastConsole = new Map<string, Principal>();
  const consolePrefix = `kuroko/v1/${store.show}/console/`;
  return {
    refused,
    lastPublisher: (topic) => lastConsole.get(topic),
    authenticate(client, username, password, done) {
      store.authenticate(username, password).then((p) => {
        if (!p) {
          refused.auth++;
          onRefused?.(`MQTT log-in refused for ${username ? `user "${String(username).slice(0, 64)}"` : 'an anonymous client'} (client id ${String(client.id).slice(0, 64)})`);
          const err = new Error('bad user name or password') as AuthenticateError;
          err.returnCode = username ? 4 : 5;
          done(err, false);
          return;
        }
        policies.set(client, new AccessPolicy(store.show, p));
        done(null, true);
      }, (e: Error) => done(Object.assign(e, { returnCode: 3 }) as AuthenticateError, false));
    },
    authorizePublish(client, packet, callback) {
      // client is null for the broker's own messages (none in Kuroko) — allow those.
      if (!client) return callback(null);
      const policy = policies.get(client);
      if (!policy?.mayPublish(packet.topic)) {
        refused.publish++;
        onRefused?.(`publish to ${packet.topic.slice(0, 200)} refused for ${policy?.principal.id ?? 'an unauthenticated client'}`);
        // aedes disconnects a client whose publish is refused (MQTT 3.1.1 has no way to say no).
        return callback(new Error(`not allowed to publish to ${packet.topic}`));
      }
      if (packet.topic.startsWith(consolePrefix)) lastConsole.set(packet.topic, policy.principal);
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      const policy = client ? policies.get(client) : undefined;
      if (!policy?.maySubscribe(subscription.topic)) {
        refused.subscribe++;
        onRefused?.(`subscription to ${subscription.topic.slice(0, 200)} refused for ${policy?.principal.id ?? 'an unauthenticated client'}`);
        // A null subscription is a negative SUBACK (0x80), as Mosquitto answers.
        return callback(null, null);
      }
      callback(null, subscription);
    },
    authorizeForward(client, packet) {
      const policy = policies.get(client);
      return policy?.mayRead(packet.topic) ? packet : null;
    },
  };
}
