// The per-command handlers: what each chat command a client runs does, over the hub's parts.
// Parsing, the operator check and the name-first check are input.ts's (before dispatch);
// operator commands are operators.ts's, messages messages.ts's, naming naming.ts's.

import type { Client } from "./client.ts";
import { type CommandName, type CommandOf, helpLines } from "../../protocol/commands.ts";
import { encodedBytes } from "../../protocol/events.ts";
import { type Limits, replyBudget } from "../limits.ts";
import { nameKey, nameProblem, roomProblem } from "../../protocol/names.ts";
import { hashPassword, sameSecret } from "../passwords.ts";
import { sanitizeLabel } from "../../protocol/sanitize.ts";
import type { ChatStore } from "../store.ts";
import { type Delivery, fitting } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import type { Flood } from "./flood.ts";
import type { Messages } from "./messages.ts";
import type { Cluster, Remote } from "./cluster.ts";
import { describe } from "./failures.ts";
import type { Naming } from "./naming.ts";
import { addressOf, NOT_DONE, type Operators } from "./operators.ts";
import type { ClusterStore } from "./cluster_store.ts";
import { type PromptMachine, remember } from "./prompts.ts";
import type { Room, Rooms } from "./rooms.ts";
import type { SharedState } from "./shared_state.ts";

/**
 * Runs one command for a client; `room` is the room a JSON request named (`say` and `me`, in
 * a room the client is in), when it named one.
 */
export type Handler<K extends CommandName> = (
  client: Client,
  cmd: CommandOf<K>,
  room?: Room,
) => void;

/** One handler per command; the type makes a command without a handler a compile error. */
export type Handlers = { [K in CommandName]: Handler<K> };

/** What the handlers work with; the hub gives its own parts. */
export interface HandlersContext {
  limits: Limits;
  /** Every connection, named or not. */
  clients: ReadonlySet<Client>;
  names: Directory;
  rooms: Rooms;
  store: ChatStore;
  out: Delivery;
  ops: Operators;
  flood: Flood;
  messages: Messages;
  naming: Naming;
  prompts: PromptMachine;
  /** The password that makes a user an operator with /op. */
  opPassword: string | undefined;
  /** Names across nodes; absent on a single node. */
  cluster?: Cluster;
  /** In a cluster, the store over the engine: an owned name is shared first. */
  shared?: ClusterStore;
  /** Topics kept across nodes; absent on a single node. */
  roomState?: SharedState;
  log(line: string): void;
  /** Tells a client what it asked was not stored, and logs why. */
  notStored(client: Client, err: unknown): void;
  /** Forgets a connection that has closed; others see it leave. */
  disconnect(client: Client, reason?: string): void;
}

/** The handler record over `ctx`: each command a client may run, keyed by its name. */
export function handlers(ctx: HandlersContext): Handlers {
  return {
    help: (client, cmd) => {
      ctx.out.send(client, { type: "help", ts: Date.now(), lines: helpLines(cmd.topic) });
    },
    users: (client, cmd) => {
      const key = cmd.room === undefined ? undefined : nameKey(cmd.room);
      // In a cluster, a room may have members on other nodes only.
      const remote = key === undefined
        ? undefined
        : ctx.cluster?.rooms().find((r) => r.key === key);
      const room = key === undefined
        ? client.room
        : ctx.rooms.get(key) ?? (remote && { name: remote.name, members: new Set<Client>(), key });
      if (cmd.room !== undefined && !room) {
        ctx.out.error(client, "room-invalid", `there is no room ${cmd.room} (/rooms lists them)`);
        return;
      }
      const everyone = cmd.everyone || !room;
      const here = everyone
        ? [...ctx.clients].filter((c) => c.name !== undefined)
        : [...room.members];
      const send = (elsewhere: Remote[], online = ctx.names.size + elsewhere.length) => {
        const all: { name: string; operator?: boolean; away?: string }[] = [
          ...here.map((c) => ({ name: c.name!, operator: c.operator, away: c.away })),
          ...elsewhere,
        ];
        const shown = fitting(all, replyBudget(ctx.limits), (u) => encodedBytes(u.name) + 12);
        const names = shown.map((u) => u.name);
        const operators = shown.filter((u) => u.operator).map((u) => u.name);
        const away = shown.filter((u) => u.away !== undefined).map((u) => u.name);
        ctx.out.send(client, {
          type: "users",
          ts: Date.now(),
          room: everyone ? "*" : room.name,
          names,
          count: all.length,
          online,
          ...(names.length < all.length ? { omitted: all.length - names.length } : {}),
          ...(operators.length ? { operators } : {}),
          ...(away.length ? { away } : {}),
        });
      };
      if (ctx.cluster === undefined) {
        send([]);
        return;
      }
      if (!everyone) {
        send(ctx.cluster.members(room.key), ctx.names.size + ctx.cluster.users);
        return;
      }
      // Everyone in a cluster: this node's users, then those on the other nodes.
      const id = client.request?.id;
      client.held ??= [];
      ctx.cluster.elsewhere().then((held) => {
        if (client.closing) return;
        const cluster = ctx.cluster!;
        ctx.prompts.answering(
          client,
          id,
          () => send(held.map((h) => ({ ...h, ...cluster.marks(h.node, h.name) }))),
        );
        ctx.prompts.release(client);
      }, (err) => {
        ctx.log(`engine: cannot list names: ${describe(err)}`);
        if (client.closing) return;
        ctx.prompts.answering(client, id, () => {
          ctx.out.error(client, "internal", "the other nodes cannot be reached; only this one's:");
          send([]);
        });
        ctx.prompts.release(client);
      });
    },
    pm: (client, cmd) => {
      const notice = cmd.notice;
      if (!cmd.to.startsWith("#")) {
        ctx.messages.twoStep(client, { kind: "private", to: cmd.to, notice }, cmd.text);
        return;
      }
      // `/msg #room TEXT`, as in IRC: speaks in a room you are in, without switching to it.
      const room = ctx.rooms.of(client, cmd.to);
      if (room) ctx.messages.twoStep(client, { kind: "public", room, notice }, cmd.text);
      else ctx.out.error(client, "not-in-room", `you are not in ${cmd.to} (/join ${cmd.to})`);
    },
    groupmessage: (client, cmd) =>
      ctx.messages.twoStep(client, { kind: "group", to: cmd.to }, cmd.text),
    sendall: (client, cmd, room) =>
      ctx.messages.twoStep(client, { kind: "public", room, notice: cmd.notice }, cmd.text),
    me: (client, cmd, room) => ctx.messages.deliver(client, { kind: "action", room }, cmd.text),
    reply: (client, cmd) => {
      if (client.lastPmFrom === undefined) {
        ctx.out.error(client, "unknown-user", "nobody has sent you a private message yet");
        return;
      }
      ctx.messages.twoStep(client, { kind: "private", to: client.lastPmFrom }, cmd.text);
    },
    join: (client, cmd) => {
      const problem = roomProblem(cmd.room, ctx.limits.maxNameLength);
      const joined = problem ? undefined : ctx.rooms.of(client, cmd.room);
      const stay = client.room ? `you stay in ${client.room.name}` : "you stay where you are";
      if (problem) {
        ctx.out.error(client, "room-invalid", `invalid room: ${problem}`);
      } else if (joined) {
        if (joined === client.room) ctx.out.system(client, `you are in ${joined.name} already`);
        else ctx.naming.activate(client, joined);
      } else if (client.rooms.length >= ctx.limits.maxRoomsPerUser) {
        ctx.out.error(
          client,
          "too-many-rooms",
          `you are in ${client.rooms.length} rooms, the most allowed; /part one first`,
        );
      } else if (ctx.cluster !== undefined && !ctx.cluster.reachable) {
        // Told to this node only, the other nodes would not know who is in the room.
        ctx.out.error(
          client,
          "internal",
          `cannot join ${cmd.room} now (the cluster cannot be reached); try again`,
        );
      } else if (!ctx.ops.silenced(client, stay) && ctx.flood.noisy(client, "room changes")) {
        const room = ctx.rooms.open(cmd.room);
        if (room) ctx.naming.enter(client, room);
        else {
          ctx.out.error(
            client,
            "room-invalid",
            `too many rooms (limit ${ctx.limits.maxRooms}); join one that exists (/rooms)`,
          );
        }
      }
    },
    part: (client, cmd) => {
      const room = cmd.room === undefined ? client.room : ctx.rooms.of(client, cmd.room);
      if (!room) {
        ctx.out.error(
          client,
          "not-in-room",
          cmd.room === undefined ? "you are in no room" : `you are not in ${cmd.room}`,
        );
        return;
      }
      const reason = cmd.reason === undefined ? undefined : sanitizeLabel(cmd.reason) || undefined;
      if (reason !== undefined && ctx.messages.tooLong(client, reason, "reason")) return;
      // A leave is seen by the room, like a join: a mute keeps you where you are.
      if (ctx.ops.silenced(client, `you stay in ${room.name}`)) return;
      if (ctx.flood.noisy(client, "room changes")) ctx.naming.part(client, room, reason);
    },
    rooms: (client) => {
      const here = ctx.rooms.sorted();
      const cluster = ctx.cluster;
      // In a cluster, members on every node, and the rooms only other nodes have members in.
      const all: { name: string; topic?: { text: string }; members: ReadonlySet<Client> }[] =
        cluster === undefined ? here : [
          ...here,
          ...cluster.rooms().filter((r) => !ctx.rooms.get(r.key)).sort((a, b) =>
            a.name.localeCompare(b.name)
          ).map((r) => ({ name: r.name, members: new Set<Client>() })),
        ];
      const size = (r: (typeof all)[number]) =>
        r.members.size + (cluster?.count(nameKey(r.name)) ?? 0);
      const shown = fitting(
        all,
        replyBudget(ctx.limits),
        (r) => encodedBytes(r.name) + encodedBytes(r.topic?.text ?? "") + 40,
      );
      const rooms = shown.map((r) => ({
        name: r.name,
        members: size(r),
        topic: r.topic?.text,
        ...(r.members.has(client) ? { joined: true as const } : {}),
        ...(r === client.room ? { active: true as const } : {}),
      }));
      const omitted = all.length - shown.length;
      ctx.out.send(client, {
        type: "rooms",
        ts: Date.now(),
        rooms,
        ...(omitted ? { omitted } : {}),
      });
    },
    topic: (client, cmd) => {
      const room = client.room;
      if (!room) {
        ctx.messages.noRoom(client);
        return;
      }
      const ts = Date.now();
      if (cmd.text === undefined && !cmd.remove) {
        const { text, by } = room.topic ?? {};
        ctx.out.send(client, {
          type: "topic",
          ts,
          room: room.name,
          topic: text,
          by,
          changed: false,
        });
        return;
      }
      if (ctx.ops.silenced(client, "the topic was not changed")) return;
      if (cmd.remove && !room.topic) {
        ctx.out.error(client, "usage", `${room.name} has no topic`);
        return;
      }
      if (cmd.text !== undefined && ctx.messages.tooLong(client, cmd.text, "topic")) return;
      if (!ctx.flood.noisy(client, "topic changes")) return;
      const by = client.name!;
      const topic = cmd.text === undefined ? undefined : sanitizeLabel(cmd.text);
      if (topic === "") {
        ctx.out.error(client, "usage", "a topic needs visible text (/topic -delete removes it)");
        return;
      }
      if (ctx.roomState !== undefined) {
        // Every node, this one included, applies it when the engine hands it back.
        const setting = ctx.roomState.setTopic(room, topic, by, ts).then(() => {
          ctx.log(`topic ${room.name} by ${by}: ${topic ?? "(removed)"}`);
          return true;
        }, (err) => {
          ctx.log(`engine: topic ${room.name} by ${by} not set: ${describe(err)}`);
          return false;
        });
        ctx.prompts.async(client, setting, (done) => {
          if (!done) ctx.out.error(client, "internal", NOT_DONE);
        });
        return;
      }
      try {
        ctx.rooms.setTopic(room, topic, by, ts);
      } catch (err) {
        ctx.notStored(client, err);
        return;
      }
      ctx.log(`topic ${room.name} by ${by}: ${topic ?? "(removed)"}`);
      ctx.out.toRoom(room, {
        type: "topic",
        ts,
        room: room.name,
        topic,
        by,
        changed: true,
      });
    },
    away: (client, cmd) => {
      // The reason is shown to others (/whois, private messages); plain /away is not.
      if (cmd.reason !== undefined && ctx.ops.silenced(client, "use /away without a reason")) {
        return;
      }
      if (cmd.reason !== undefined && ctx.messages.tooLong(client, cmd.reason, "reason")) return;
      client.away = (cmd.reason === undefined ? "" : sanitizeLabel(cmd.reason)) || "away";
      ctx.cluster?.tell({
        kind: "status",
        name: client.name!,
        rooms: client.rooms.map((r) => r.name),
      });
      ctx.out.system(client, `you are marked as away (${client.away}); /back when you return`);
    },
    back: (client) => {
      const was = client.away;
      client.away = undefined;
      if (was !== undefined) {
        ctx.cluster?.tell({
          kind: "status",
          name: client.name!,
          rooms: client.rooms.map((r) => r.name),
        });
      }
      ctx.out.system(client, was === undefined ? "you were not away" : "welcome back");
    },
    whois: (client, cmd) => {
      const target = ctx.names.get(cmd.user);
      if (!target && ctx.cluster !== undefined) {
        // Maybe on another node: who it is and where (its rooms and idle time stay there).
        const id = client.request?.id;
        const key = nameKey(cmd.user);
        client.held ??= [];
        ctx.cluster.elsewhere().then((held) => {
          if (client.closing) return;
          const there = held.find((h) => h.key === key);
          ctx.prompts.answering(client, id, () => {
            if (there === undefined) {
              ctx.out.error(client, "unknown-user", `no user named ${cmd.user} is online`);
            } else {
              const marks = ctx.cluster!.marks(there.node, there.name);
              ctx.out.system(
                client,
                `${there.name} is online on node ${there.node}` +
                  (marks?.operator ? ", an operator" : "") +
                  (marks?.away === undefined ? "" : `, away: ${marks.away}`),
              );
            }
          });
          ctx.prompts.release(client);
        }, (err) => {
          ctx.log(`engine: cannot list names: ${describe(err)}`);
          if (client.closing) return;
          ctx.prompts.answering(client, id, () => {
            ctx.out.error(
              client,
              "unknown-user",
              `no user named ${cmd.user} is on this node (the others cannot be reached)`,
            );
          });
          ctx.prompts.release(client);
        });
        return;
      }
      if (!target) {
        ctx.out.error(client, "unknown-user", `no user named ${cmd.user} is online`);
        return;
      }
      const ts = Date.now();
      ctx.out.send(client, {
        type: "whois",
        ts,
        name: target.name!,
        rooms: target.rooms.map((r) => r.name).sort(),
        since: target.connectedAt,
        idleSeconds: Math.floor((ts - target.lastInput) / 1000),
        away: target.away,
        ...(client.operator ? { address: addressOf(target) } : {}),
      });
    },
    ignore: (client, cmd) => {
      if (cmd.user === undefined) {
        const list = [...client.ignored ?? []];
        ctx.out.system(
          client,
          list.length ? `you ignore: ${list.join(", ")}` : "you ignore nobody",
        );
        return;
      }
      const problem = nameProblem(cmd.user, ctx.limits.maxNameLength);
      if (problem) {
        ctx.out.error(client, "name-invalid", `invalid name: ${problem}`);
      } else if (nameKey(cmd.user) === nameKey(client.name!)) {
        ctx.out.error(client, "usage", "you cannot ignore yourself");
      } else if (
        (client.ignored?.size ?? 0) >= ctx.limits.maxIgnore &&
        !client.ignored?.has(nameKey(cmd.user))
      ) {
        ctx.out.error(
          client,
          "usage",
          `you ignore ${ctx.limits.maxIgnore} names already (the limit); /unignore one first`,
        );
      } else {
        (client.ignored ??= new Set()).add(nameKey(cmd.user));
        ctx.out.system(
          client,
          `you no longer see messages from ${cmd.user} (/unignore ${cmd.user} to undo)`,
        );
      }
    },
    unignore: (client, cmd) => {
      if (client.ignored?.delete(nameKey(cmd.user))) {
        ctx.out.system(client, `you see messages from ${cmd.user} again`);
      } else {
        ctx.out.error(client, "unknown-user", `you are not ignoring ${cmd.user}`);
      }
    },
    motd: (client, cmd) => {
      if (cmd.text !== undefined) {
        if (client.operator) ctx.ops.setMotd({ name: client.name!, client }, cmd.text);
        else {ctx.out.error(
            client,
            "not-allowed",
            "not allowed: setting the motd is for operators",
          );}
        return;
      }
      const lines = ctx.ops.motd;
      if (lines?.length) ctx.out.send(client, { type: "motd", ts: Date.now(), lines });
      else ctx.out.system(client, "there is no message of the day");
    },
    changeusername: (client, cmd) => {
      // Everyone sees a rename; choosing a first name is not one.
      if (client.name !== undefined && ctx.ops.silenced(client, "your name was not changed")) {
        return;
      }
      if (client.name !== undefined && !ctx.flood.noisy(client, "name changes")) return;
      ctx.naming.rename(client, cmd.nick, cmd.password);
    },
    disconnect: (client, cmd) => {
      // Others see the reason, unless the client may not be heard (muted) or it is too long.
      const reason = cmd.reason === undefined || client.name === undefined || ctx.ops.muteOf(client)
        ? ""
        : sanitizeLabel(cmd.reason);
      const shown = reason && encodedBytes(reason) <= ctx.limits.maxLineBytes;
      ctx.out.bye(client, "goodbye");
      ctx.disconnect(client, shown ? `quit: ${reason}` : "quit");
    },
    proto: (client, cmd) => {
      client.mode = cmd.mode;
      const prompt = client.prompt;
      ctx.out.send(client, {
        type: "mode",
        ts: Date.now(),
        mode: cmd.mode,
        name: client.name ?? null,
        ...(prompt.for === "password" && prompt.about === "server"
          ? { password: true as const }
          : {}),
        ...ctx.flood.pace,
      });
      // The password prompt the client is answering, again in the mode it now reads.
      ctx.prompts.askPassword(client);
    },
    pass: (client) => ctx.out.system(client, "no password is needed now"),
    op: (client, cmd) => {
      const expected = ctx.opPassword;
      remember(client, cmd.password);
      if (expected === undefined) {
        ctx.out.error(client, "not-allowed", "this server has no operator password");
      } else if (client.operator) {
        ctx.out.system(client, "you are an operator already");
      } else {
        const check = () => sameSecret(cmd.password, expected);
        ctx.prompts.guess(client, "op", "wrong operator password", check, (right) => {
          if (!right) return;
          client.operator = true;
          ctx.cluster?.tell({
            kind: "status",
            name: client.name!,
            rooms: client.rooms.map((r) => r.name),
          });
          ctx.log(`op ${client.name}`);
          ctx.out.system(client, "you are now an operator");
        });
      }
    },
    register: (client, cmd) => {
      const name = client.name!;
      remember(client, cmd.password);
      if (!ctx.store.persistent) {
        ctx.out.error(
          client,
          "not-allowed",
          "registering names needs a server started with --data",
        );
      } else if (ctx.store.account(nameKey(name))) {
        ctx.out.error(client, "usage", `${name} is registered already (/unregister first)`);
      } else {
        const hashing = ctx.prompts.hash(client, () => hashPassword(cmd.password));
        const shared = ctx.shared;
        if (hashing && shared === undefined) {
          ctx.prompts.async(client, hashing, (hash) => {
            ctx.store.setAccount({ key: nameKey(name), name, hash, ts: Date.now() });
            ctx.log(`register ${name}`);
            ctx.out.system(client, `${name} is yours now: taking it needs this password`);
          });
        } else if (hashing && shared !== undefined) {
          // In a cluster the owned name goes to Redis first, for every node; else nowhere.
          const sharing = hashing.then(async (hash) => {
            const account = { key: nameKey(name), name, hash, ts: Date.now() };
            await shared.share("account", account.key, account);
            return account;
          }).catch((err) => {
            ctx.log(`engine: register ${name} not done: ${describe(err)}`);
            return undefined;
          });
          ctx.prompts.async(client, sharing, (account) => {
            if (account === undefined) return ctx.out.error(client, "internal", NOT_DONE);
            shared.local(() => ctx.store.setAccount(account));
            ctx.log(`register ${name}`);
            ctx.out.system(client, `${name} is yours now: taking it needs this password`);
          });
        }
      }
    },
    unregister: (client) => {
      const name = client.name!;
      const key = nameKey(name);
      const shared = ctx.shared;
      if (shared !== undefined && ctx.store.account(key)) {
        const sharing = shared.share("account", key, undefined).then(() => true, (err) => {
          ctx.log(`engine: unregister ${name} not done: ${describe(err)}`);
          return false;
        });
        ctx.prompts.async(client, sharing, (done) => {
          if (!done) return ctx.out.error(client, "internal", NOT_DONE);
          shared.local(() => ctx.store.removeAccount(key));
          ctx.log(`unregister ${name}`);
          ctx.out.system(client, `${name} is no longer registered`);
        });
      } else if (shared === undefined && ctx.store.removeAccount(key)) {
        ctx.log(`unregister ${name}`);
        ctx.out.system(client, `${name} is no longer registered`);
      } else {
        ctx.out.error(client, "usage", `${name} is not registered`);
      }
    },
    purge: (client, cmd) => ctx.ops.purge({ name: client.name!, client }, cmd),
    kick: (client, cmd) => ctx.ops.command({ name: client.name!, client }, cmd),
    ban: (client, cmd) => ctx.ops.command({ name: client.name!, client }, cmd),
    unban: (client, cmd) => ctx.ops.command({ name: client.name!, client }, cmd),
    banned: (client, cmd) => ctx.ops.command({ name: client.name!, client }, cmd),
    mute: (client, cmd) => ctx.ops.command({ name: client.name!, client }, cmd),
    unmute: (client, cmd) => ctx.ops.command({ name: client.name!, client }, cmd),
  };
}
