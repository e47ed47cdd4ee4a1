// Embedding linechat: a server with hooks that greets newcomers in the log, masks a
// word in every message and drops messages that shout. Run it with:
//   deno run --allow-net examples/embed.ts [PORT]

import { ChatServer } from "../lib/server/server.ts";

const port = Number(Deno.args[0] ?? 8080);
const server = ChatServer.listen({
  hostname: "127.0.0.1",
  port,
  hooks: {
    connect: ({ address }) => console.log(`hook: connect from ${address}`),
    join: ({ name }) => console.log(`hook: ${name} joined`),
    // Return a string to rewrite the message, false to drop it.
    message: ({ from, text }) => {
      if (text.length > 3 && text === text.toUpperCase()) {
        console.log(`hook: dropped shouting from ${from}`);
        return false;
      }
      return text.replaceAll(/\bdarn\b/gi, "d**n");
    },
    leave: ({ name }) => console.log(`hook: ${name} left`),
  },
});
console.log(`listening on 127.0.0.1:${server.addr.port}`);
Deno.addSignalListener("SIGTERM", () => server.shutdown().then(() => Deno.exit(0)));
