// The chat page's script (page.ts puts chat-client's nameColour, mentions, clock and
// reconnectDelay before it). It speaks the JSON protocol over the door's WebSocket: one event
// or request a frame. Everything from the server is shown with textContent, never as HTML.

/** Lines kept per conversation; older ones go. */
const KEEP = 1000;

const $ = (id) => document.getElementById(id);
const ui = {
  login: $("login"),
  loginForm: $("login-form"),
  loginStatus: $("login-status"),
  loginLabel: $("login-label"),
  loginInput: $("login-input"),
  loginError: $("login-error"),
  chat: $("chat"),
  side: $("side"),
  rooms: $("rooms"),
  privates: $("privates"),
  menu: $("menu"),
  title: $("title"),
  topic: $("topic"),
  notify: $("notify"),
  membersToggle: $("members-toggle"),
  banner: $("banner"),
  log: $("log"),
  sendForm: $("send-form"),
  input: $("input"),
  members: $("members"),
  membersTitle: $("members-title"),
  memberList: $("member-list"),
};

/** The page's state; the DOM is drawn from it. */
const state = {
  socket: undefined,
  /** Our name once named. */
  me: undefined,
  /** What the next plain line is for the server: "name", "password" or "ready". */
  prompt: "name",
  /** The name to take back and the server password, for a reconnect (memory only). */
  savedName: undefined,
  savedPassword: undefined,
  /** Sent a password and waiting for the answer: the next password prompt means it was wrong. */
  passwordSent: false,
  /** Conversations by key: "#room" or "@name" (group: "@a, b"). */
  convs: new Map(),
  /** The conversation shown. */
  active: undefined,
  /** Rooms to join again after a reconnect, the active one last. */
  rejoin: [],
  attempt: 0,
  quitting: false,
  stayAway: undefined,
  nextId: 1,
};

function conv(key) {
  let c = state.convs.get(key);
  if (!c) {
    c = {
      key,
      room: key.startsWith("#"),
      lines: [],
      unread: 0,
      mention: false,
      /** Where the "new messages" marker goes (an index into lines), if anywhere. */
      marker: undefined,
      members: new Set(),
      topic: undefined,
      joined: key.startsWith("#"),
    };
    state.convs.set(key, c);
  }
  return c;
}

/** The conversation with these people: `@bob`, or for a group `@bob, carol` (sorted). */
const groupKey = (names) => `@${[...names].sort((a, b) => a.localeCompare(b)).join(", ")}`;

const sameName = (a, b) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

// ---- the connection ----

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const socket = new WebSocket(url);
  state.socket = socket;
  state.stayAway = undefined;
  socket.onmessage = (e) => {
    let event;
    try {
      event = JSON.parse(e.data);
    } catch {
      return;
    }
    handle(event);
  };
  socket.onclose = (e) => {
    if (state.socket !== socket) return;
    state.socket = undefined;
    const why = state.stayAway ?? (e.reason || "connection lost");
    if (state.quitting || state.stayAway !== undefined && !/shutting down/i.test(why)) {
      showBanner(`disconnected: ${why}. Reload the page to come back.`);
      showLoginStatus(`disconnected: ${why}`);
      return;
    }
    state.attempt++;
    const ms = reconnectDelay(state.attempt, Math.random());
    showBanner(`disconnected (${why}); reconnecting in ${Math.round(ms / 1000)} s…`);
    showLoginStatus(`disconnected (${why}); reconnecting in ${Math.round(ms / 1000)} s…`);
    if (state.me) {
      state.rejoin = [...state.convs.values()].filter((c) => c.room && c.joined).map((c) => c.key);
      const active = state.convs.get(state.active);
      if (active?.room && active.joined) {
        state.rejoin = state.rejoin.filter((k) => k !== active.key).concat(active.key);
      }
      state.savedName = state.me;
      state.me = undefined;
    }
    setTimeout(connect, ms);
  };
}

function sendLine(text) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(text);
}

function request(req) {
  const id = req.id ?? `p${state.nextId++}`;
  sendLine(JSON.stringify({ ...req, id }));
  return id;
}

// ---- events ----

function handle(e) {
  switch (e.type) {
    case "welcome":
      showLoginStatus(e.text);
      break;
    case "prompt":
      onPrompt(e);
      break;
    case "named":
      onNamed(e);
      break;
    case "message":
    case "action":
      roomLine(e);
      break;
    case "private": {
      const c = conv(`@${e.from}`);
      add(c, { kind: "private", ts: e.ts, from: e.from, text: e.text }, true);
      break;
    }
    case "group": {
      const others = [e.from, ...e.to].filter((n) => !sameName(n, state.me));
      add(
        conv(groupKey(others)),
        { kind: "group", ts: e.ts, from: e.from, text: e.text },
        true,
      );
      break;
    }
    case "sent":
      add(
        conv(groupKey(e.to)),
        { kind: e.kind, ts: e.ts, from: state.me, text: e.text },
        false,
      );
      break;
    case "announce":
      add(current(), { kind: "announce", ts: e.ts, text: e.text }, true);
      break;
    case "join":
      onJoin(e);
      break;
    case "leave":
      onLeave(e);
      break;
    case "quit":
      forRoomsOf(e.name, (c, m) => {
        c.members.delete(m);
        notice(c, e.ts, `${e.name} left${e.reason ? `: ${e.reason}` : ""}`);
      });
      drawMembers();
      break;
    case "rename":
      forRoomsOf(e.from, (c, m) => {
        c.members.delete(m);
        c.members.add(e.to);
        notice(c, e.ts, `${e.from} is now ${e.to}`);
      });
      drawMembers();
      break;
    case "users":
      if (e.room !== "*") {
        const c = conv(e.room);
        c.members = new Set(e.names);
        drawMembers();
      }
      if (!String(e.id ?? "").startsWith("auto")) {
        notice(
          current(),
          e.ts,
          `${e.room === "*" ? `${e.count} online` : `${e.count} in ${e.room}`}: ${
            e.names.join(", ")
          }`,
        );
      }
      break;
    case "room":
      onRoom(e);
      break;
    case "rooms":
      notice(current(), e.ts, `${e.rooms.length} rooms:`);
      for (const r of e.rooms) {
        notice(
          current(),
          e.ts,
          `${r.active ? ">" : r.joined ? "+" : " "} ${r.name} (${r.members})${
            r.topic ? ` ${r.topic}` : ""
          }`,
        );
      }
      break;
    case "topic": {
      const c = conv(e.room);
      c.topic = e.topic;
      if (e.changed) {
        notice(
          c,
          e.ts,
          e.topic
            ? `${e.by ?? "someone"} set the topic: ${e.topic}`
            : `${e.by ?? "someone"} removed the topic`,
        );
      } else notice(c, e.ts, e.topic ? `topic: ${e.topic}` : "no topic");
      drawHeader();
      break;
    }
    case "whois":
      notice(
        current(),
        e.ts,
        `${e.name}: in ${e.rooms.join(", ") || "no room"}, idle ${e.idleSeconds} s${
          e.away ? `, away: ${e.away}` : ""
        }${e.address ? `, from ${e.address}` : ""}`,
      );
      break;
    case "motd":
    case "help":
      for (const line of e.lines) notice(current(), e.ts, line);
      break;
    case "system":
      if (e.text && !String(e.id ?? "").startsWith("auto")) {
        notice(e.room ? conv(e.room) : current(), e.ts, e.text);
      }
      break;
    case "history-end": {
      const c = conv(e.room);
      c.marker = c.lines.length;
      if (state.active === c.key) draw();
      break;
    }
    case "error":
      if (!state.me) showLoginError(e.text);
      else add(current(), { kind: "error", ts: e.ts, text: e.text }, false);
      break;
    case "bye":
      state.stayAway = e.reason;
      break;
  }
}

function onPrompt(e) {
  state.prompt = e.for;
  if (e.for === "password") {
    const about = e.about === "server" ? "the server's password" : `the password for ${e.name}`;
    if (e.about === "server" && state.savedPassword !== undefined && !state.passwordSent) {
      state.passwordSent = true;
      sendLine(state.savedPassword);
      return;
    }
    state.passwordSent = false;
    if (state.me) {
      setSecret(ui.input, true, `${about} (hidden)`);
      ui.input.focus();
    } else {
      showLogin(about.replace(/^t/, "T"), true);
    }
    return;
  }
  state.passwordSent = false;
  setSecret(ui.input, false, placeholder());
  if (e.for === "name") {
    if (state.savedName && !state.me) {
      sendLine(state.savedName);
      state.savedName = undefined;
      return;
    }
    showLogin("Your name", false);
  }
}

function onNamed(e) {
  const first = !state.me;
  state.me = e.name;
  state.attempt = 0;
  state.prompt = "ready";
  hideBanner();
  setSecret(ui.input, false, placeholder());
  if (!first) {
    for (const c of state.convs.values()) {
      if (c.room && c.members.delete(e.previous)) c.members.add(e.name);
    }
    notice(current(), e.ts, `you are now ${e.name}`);
    drawMembers();
    return;
  }
  ui.login.hidden = true;
  ui.chat.hidden = false;
  const lobby = conv("#lobby");
  lobby.joined = true;
  if (!state.active) state.active = lobby.key;
  request({ id: "auto-users", cmd: "users", room: "#lobby" });
  const rejoin = state.rejoin;
  state.rejoin = [];
  // A room change costs the flood allowance of several lines: one a second is within it.
  rejoin.filter((k) => k !== "#lobby").forEach((room, i) => {
    setTimeout(() => request({ id: `auto-join${i}`, cmd: "join", room }), 1100 * i);
  });
  draw();
  ui.input.focus();
}

function onRoom(e) {
  const c = conv(e.room);
  c.joined = true;
  c.members = new Set(e.names);
  c.topic = e.topic;
  state.active = c.key;
  c.unread = 0;
  c.mention = false;
  if (!e.switched) notice(c, e.ts, `you are in ${c.key} (${e.names.length} here)`);
  closeSide();
  draw();
}

function onJoin(e) {
  const c = conv(e.room);
  c.members.add(e.name);
  notice(c, e.ts, `${e.name} joined ${e.room} (${e.members} here)`);
  drawMembers();
}

function onLeave(e) {
  const c = conv(e.room);
  if (sameName(e.name, state.me)) {
    c.joined = false;
    state.convs.delete(c.key);
    if (state.active === c.key) {
      state.active = [...state.convs.values()].find((x) => x.room)?.key;
    }
    draw();
    return;
  }
  c.members.delete(e.name);
  notice(c, e.ts, `${e.name} left ${e.room}${e.reason ? `: ${e.reason}` : ""}`);
  drawMembers();
}

function roomLine(e) {
  const c = conv(e.room);
  const line = { kind: e.type, ts: e.ts, from: e.from, text: e.text, history: e.history };
  if (e.history && c.lines.some((l) => l.ts === e.ts && l.from === e.from && l.text === e.text)) {
    return; // seen before a reconnect
  }
  add(c, line, !e.history);
}

/** Calls `fn` for each room `name` is in, with the name as the room's list spells it. */
function forRoomsOf(name, fn) {
  for (const c of state.convs.values()) {
    const m = c.room ? [...c.members].find((m) => sameName(m, name)) : undefined;
    if (m !== undefined) fn(c, m);
  }
}

function current() {
  return conv(state.active ?? "#lobby");
}

function notice(c, ts, text) {
  add(c, { kind: "notice", ts, text }, false);
}

/** Adds a line to a conversation; `counts`: it is news (unread, mentions, notifications). */
function add(c, line, counts) {
  const own = line.from !== undefined && sameName(line.from, state.me);
  line.mention = !own && line.from !== undefined && mentions(line.text, state.me);
  const away = c.key !== state.active || document.hidden;
  if (counts && !own && away) {
    if (c.unread === 0) c.marker = c.lines.length;
    c.unread++;
    if (line.mention || !c.room) c.mention = true;
    if (line.mention || !c.room) notifyOf(c, line);
  }
  c.lines.push(line);
  if (c.lines.length > KEEP) {
    const cut = c.lines.length - KEEP;
    c.lines.splice(0, cut);
    if (c.marker !== undefined) c.marker = Math.max(0, c.marker - cut);
  }
  if (c.key === state.active) appendLine(c, line);
  drawList();
  drawTitle();
}

// ---- drawing (textContent only) ----

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function nameSpan(name) {
  return el("span", `name c${nameColour(name)}`, name);
}

function lineNode(line) {
  const li = el(
    "li",
    `line ${line.kind}${line.history ? " history" : ""}${line.mention ? " mention" : ""}`,
  );
  li.append(el("time", "time", clock(line.ts)));
  if (line.kind === "message" || line.kind === "private" || line.kind === "group") {
    li.append(nameSpan(line.from), el("span", "text", line.text));
  } else if (line.kind === "action") {
    li.append(el("span", "star", "* "), nameSpan(line.from), el("span", "text", ` ${line.text}`));
  } else if (line.kind === "announce") {
    li.append(el("span", "from", "[server] "), el("span", "text", line.text));
  } else {
    li.append(el("span", "text", line.text));
  }
  return li;
}

function markerNode() {
  return el("li", "marker", "new messages");
}

function appendLine(c, line) {
  const stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
  if (c.marker === c.lines.length - 1 && c.marker > 0 && !ui.log.querySelector(".marker")) {
    ui.log.append(markerNode());
  }
  ui.log.append(lineNode(line));
  if (stick) ui.log.scrollTop = ui.log.scrollHeight;
}

function draw() {
  const c = current();
  ui.log.replaceChildren();
  c.lines.forEach((line, i) => {
    if (i === c.marker && i > 0) ui.log.append(markerNode());
    ui.log.append(lineNode(line));
  });
  if (c.marker === c.lines.length && c.marker > 0) ui.log.append(markerNode());
  ui.log.scrollTop = ui.log.scrollHeight;
  drawHeader();
  drawMembers();
  drawList();
  drawTitle();
  ui.input.placeholder = placeholder();
}

function drawHeader() {
  const c = current();
  ui.title.textContent = c.room ? c.key : `private: ${c.key.slice(1)}`;
  ui.topic.textContent = c.topic ?? "";
}

function drawMembers() {
  const c = current();
  const names = c.room
    ? [...c.members].sort((a, b) => a.localeCompare(b))
    : [state.me, ...c.key.slice(1).split(", ")];
  ui.membersTitle.textContent = c.room ? `${names.length} here` : "Private";
  ui.membersToggle.textContent = c.room ? `${names.length} here` : "people";
  ui.memberList.replaceChildren(...names.map((n) => {
    const li = el("li", "member");
    const b = el("button", "link", undefined);
    b.type = "button";
    b.append(nameSpan(n));
    b.title = sameName(n, state.me) ? "you" : `talk to ${n} in private`;
    b.onclick = () => {
      if (!sameName(n, state.me)) show(conv(`@${n}`).key);
    };
    li.append(b);
    return li;
  }));
}

function drawList() {
  const item = (c) => {
    const li = el("li", `conv${c.key === state.active ? " active" : ""}`);
    const b = el("button", "link", undefined);
    b.type = "button";
    b.dataset.key = c.key;
    b.append(el("span", "conv-name", c.room ? c.key : c.key.slice(1)));
    if (c.mention) b.append(el("span", "badge mention-badge", "@"));
    if (c.unread > 0) b.append(el("span", "badge unread", String(c.unread)));
    b.onclick = () => show(c.key);
    li.append(b);
    return li;
  };
  const all = [...state.convs.values()];
  ui.rooms.replaceChildren(...all.filter((c) => c.room && c.joined).map(item));
  ui.privates.replaceChildren(...all.filter((c) => !c.room).map(item));
  const unread = all.reduce((n, c) => n + c.unread, 0);
  ui.menu.textContent = unread > 0 ? `☰ ${unread}` : "☰";
}

function drawTitle() {
  const unread = [...state.convs.values()].reduce((n, c) => n + c.unread, 0);
  document.title = unread > 0 ? `(${unread}) linechat` : "linechat";
}

function placeholder() {
  const c = state.active && state.convs.get(state.active);
  if (!c) return "message, or /help";
  return c.room ? `message ${c.key}, or /help` : `private message to ${c.key.slice(1)}`;
}

/** Shows a conversation; a room is also made the server's active one (a switch, no history). */
function show(key) {
  const c = conv(key);
  state.active = key;
  c.unread = 0;
  c.mention = false;
  if (c.room) request({ id: "auto-switch", cmd: "join", room: key });
  closeSide();
  draw();
  ui.input.focus();
}

function closeSide() {
  document.body.classList.remove("side-open", "members-open");
}

// ---- the login box, banner, notifications ----

function showLogin(label, secret) {
  ui.chat.hidden = true;
  ui.login.hidden = false;
  ui.loginLabel.textContent = label;
  setSecret(ui.loginInput, secret, "");
  ui.loginInput.value = "";
  ui.loginInput.focus();
}

function setSecret(input, secret, hint) {
  input.type = secret ? "password" : "text";
  input.autocomplete = secret ? "current-password" : "off";
  input.placeholder = hint;
}

function showLoginStatus(text) {
  ui.loginStatus.textContent = text;
}

function showLoginError(text) {
  ui.loginError.textContent = text;
}

function showBanner(text) {
  ui.banner.textContent = text;
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
}

function notifyOf(c, line) {
  if (!document.hidden || !canNotify() || Notification.permission !== "granted") return;
  const title = c.room ? `${line.from} in ${c.key}` : `${line.from} (private)`;
  new Notification(title, { body: line.text, tag: c.key });
}

function canNotify() {
  return "Notification" in globalThis && globalThis.isSecureContext;
}

// ---- input ----

ui.loginForm.onsubmit = (e) => {
  e.preventDefault();
  const value = ui.loginInput.value;
  ui.loginError.textContent = "";
  if (state.prompt === "password") {
    state.passwordSent = true;
    state.savedPassword = value; // for a reconnect; memory only, never stored
  } else if (value.trim() === "") {
    return;
  }
  sendLine(value);
  ui.loginInput.value = "";
};

ui.sendForm.onsubmit = (e) => {
  e.preventDefault();
  const text = ui.input.value;
  if (state.socket?.readyState !== WebSocket.OPEN || !state.me) {
    showBanner("not connected: nothing was sent (it will reconnect)");
    return;
  }
  ui.input.value = "";
  if (state.prompt === "password") {
    sendLine(text);
    return;
  }
  if (text.trim() === "") return;
  const c = current();
  if (text.startsWith("/") && !text.startsWith("//")) {
    const me = /^\/(me|action)\s+(.+)$/i.exec(text);
    if (me && c.room) {
      request({ cmd: "me", room: c.key, text: me[2] });
      add(c, { kind: "action", ts: Date.now(), from: state.me, text: me[2] }, false);
    } else if (/^\/proto\b/i.test(text)) {
      add(
        c,
        { kind: "error", ts: Date.now(), text: "this page speaks JSON: /proto is not for it" },
        false,
      );
    } else if (/^\/(quit|exit|bye|disconnect)\b/i.test(text)) {
      state.quitting = true;
      sendLine(text);
    } else {
      sendLine(text);
    }
    return;
  }
  const body = text.startsWith("//") ? text.slice(1) : text;
  if (c.room) {
    request({ cmd: "say", room: c.key, text: body });
    add(c, { kind: "message", ts: Date.now(), from: state.me, text: body }, false);
  } else if (c.key.includes(", ")) {
    request({ cmd: "groupmessage", to: c.key.slice(1).split(", "), text: body });
  } else {
    request({ cmd: "pm", to: c.key.slice(1), text: body });
  }
};

ui.menu.onclick = () => document.body.classList.toggle("side-open");
ui.membersToggle.onclick = () => document.body.classList.toggle("members-open");
ui.log.onclick = closeSide;

ui.notify.hidden = !canNotify() || Notification.permission !== "default";
ui.notify.onclick = async () => {
  await Notification.requestPermission();
  ui.notify.hidden = true;
};

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  const c = state.active && state.convs.get(state.active);
  if (c && c.unread > 0) {
    c.unread = 0;
    c.mention = false;
    drawList();
    drawTitle();
  }
});

connect();
