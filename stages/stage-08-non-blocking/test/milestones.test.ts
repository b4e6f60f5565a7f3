// Stage 8 milestones, black-box: the stage's server runs as its own process
// on free ports and is spoken to over real TCP, one message at a time, as
// the official tester does.
import path from "node:path";
import { SOCKET_HIGH_WATER_MARK } from "@xps/connection/socket";
import { concurrentClients, defineStage, floodWithoutReading, reversesOnEveryPort, shutsDownOnSigint, survivesDisconnects } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.milestone("m1", async (t) => {
  await reversesOnEveryPort(t, await t.server());
});

stage.milestone("m2", async (t) => {
  await concurrentClients(t, await t.server());
});

stage.milestone("m3", async (t) => {
  await survivesDisconnects(t, await t.server());
});

stage.milestone("m4", async (t) => {
  await shutsDownOnSigint(t, await t.server({ env: { XPS_DEBUG: "1" } }));
});

// The replies to a client that does not read wait in the connection's own
// write_buff_list; the socket is only ever handed what it can take (its
// write buffer never holds more than its high-water mark, 256 KiB: a write
// handler that sends whole chunks overshoots it by a chunk).
const MiB = 1024 * 1024;
stage.milestone(
  "m5",
  async (t) => {
    const server = await t.server();
    await floodWithoutReading(t, server, 32 * MiB, (held) => {
      if (held.unsent > SOCKET_HIGH_WATER_MARK) {
        t.fail(
          `while a client sent without reading, the server had handed ${held.unsent} bytes of replies to its socket (Node's write buffer; the bound is its high-water mark, ${SOCKET_HIGH_WATER_MARK} bytes): ` +
            "socket.write() never blocks, it queues whatever it is given. Send only what the socket takes now (socketSendSome, never socket.write or socketSend) and keep the rest in write_buff_list",
        );
      }
      if (!(held.queued > 0)) {
        t.fail(`while a client sent without reading, no reply waited in a write_buff_list (stats: queued ${held.queued}): the read handler must queue the reversed message, and the write handler send it`);
      }
    });
  },
  { timeout: 120_000 },
);
